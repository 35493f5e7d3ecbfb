"""Okta (OIN SCIM 2.0 template apps and App Integration Wizard apps), client name ``okta``.

Sources (IDP-QUIRKS §1): Okta SCIM 2.0 reference
https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20, the SPEC and CRUD tests
https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-SPEC-Test.json and
https://developer.okta.com/standards/SCIM/SCIMFiles/Okta-SCIM-20-CRUD-Test.json, Group Push rename
https://github.com/okta/okta-developer-docs/pull/1023. Tests: ``tests/plugins/test_okta.py``;
captured shapes: ``tests/payloads/okta/``.

Every Okta quirk is handled by the core for every client (safe readings), so this plugin only
registers the client; each reading is tested with ``okta`` active:
- path-less ``{"op":"replace","value":{"active":false}}`` (§1 "Deactivate / reactivate", row 3;
  https://github.com/getsentry/sentry/pull/27199): path-less values apply key by key;
- group rename by a path-less replace carrying the read-only ``id`` (§1 "Rename group", row 3):
  an ``id`` equal to the current one is ignored, a different one is still ``mutability``;
- one PATCH that removes ``members[value eq "<id>"]`` (a non-member in the documented example) and
  adds (§1 "Membership", row 9; https://github.com/goauthentik/authentik/issues/24173): removing a
  non-member is a no-op;
- ``replace`` of ``members`` with the full list (§1 "Membership", row 9), and a displayName-only
  replace never touching members (row 24; https://github.com/langwatch/langwatch/issues/7131);
- PUT of the whole user with ``groups: []``, ``meta``, ``password`` (§1 "Update profile", row 19):
  read-only and unsupported attributes are ignored, memberships never change through ``groups``;
- the spec test's upper-cased ``userName eq`` filter answers 200 with an empty list: the reference
  makes usernames case-sensitive ("username in Alation must be unique, is case-sensitive"), which
  wins over IDP-QUIRKS row 12 (see docs/idp/okta.md).

Auth: Basic and Bearer (the reference: "Okta supports both basic authentication and token
authentication"; §1 "Auth"), which is the core default: no ``scimgate_auth_schemes`` here.
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
