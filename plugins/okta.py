"""Okta (OIN SCIM 2.0 template apps and App Integration Wizard apps), client name ``okta``.

Sources (IDP-QUIRKS §1): Okta SCIM 2.0 reference
https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20, the SPEC and CRUD tests
https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-SPEC-Test.json and
https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-CRUD-Test.json, Group Push rename
https://github.com/okta/okta-developer-docs/pull/1023. Tests: ``tests/plugins/test_okta.py``;
captured shapes: ``tests/payloads/okta/``.

The Okta quirks the core handles for every client (each tested with ``okta`` active) are
listed in docs/idp/okta.md, "Quirks the core handles": this plugin only registers the client
and its set-up guide.
"""

from __future__ import annotations

from scimgate.hookspecs import ClientProfile, GuideField, SetupGuide, hookimpl


@hookimpl
def scimgate_register_clients() -> list[ClientProfile]:
    """Serve the reference's default client."""
    return [ClientProfile("okta", "Okta", "Okta SCIM 2.0 (OIN template and App Integration Wizard apps)")]


@hookimpl
def scimgate_setup_guide(client: ClientProfile) -> SetupGuide:
    """Okta's Provisioning tab in its own words (docs/idp/okta.md, IDP-QUIRKS §1 "Base URL", "Auth")."""
    return SetupGuide(
        where="Okta: Applications → your app → Provisioning → Integration (App Integration Wizard "
        "apps: General → App Settings → Provisioning: SCIM first)",
        base_url_label="SCIM connector base URL",
        auth_modes={"bearer": "HTTP Header", "basic": "Basic Auth"},
        fields=(
            GuideField("Unique identifier field for users", "userName", copyable=True),
            GuideField(
                "Supported provisioning actions",
                "Import New Users and Profile Updates, Push New Users, Push Profile Updates, Push Groups",
            ),
        ),
        actions=("Create Users", "Update User Attributes", "Deactivate Users", "Push Groups"),
        quirks=(
            "Okta refuses a base URL containing '_'.",
            "Test Connector Configuration reads /Users and /Groups; both must succeed before saving.",
            "Do not enable Sync Password: sign-in is SAML and scimgate ignores passwords.",
            "Okta never deletes users: unassigning sends active: false and the user stays readable.",
            "Usernames are case-sensitive here: keep Okta's username format consistent.",
        ),
        doc="docs/idp/okta.md",
    )
