"""SailPoint IdentityIQ and IdentityNow / Identity Security Cloud, one client name: ``sailpoint``.

Sources (IDP-QUIRKS §4, §5): IdentityIQ SCIM 2.0 connector
https://documentation.sailpoint.com/connectors/identityiq/scim_2_0/help/integrating_scim2/supported_features.html,
ISC SaaS prerequisites
https://documentation.sailpoint.com/connectors/saas/scim_2_0/help/saas_connectivity/scim_2_0_saas/prerequisites.html,
forum threads https://developer.sailpoint.com/discuss/t/scim-api-patch-op/7752 and
https://developer.sailpoint.com/discuss/t/scim-saas-connector-account-aggregation-fails-while-entitlement-aggregation-succeeds/91746,
and https://github.com/Captain-P-Goldfish/SCIM-SDK/issues/327.
Tests: ``tests/plugins/test_sailpoint.py``; captured shapes: ``tests/payloads/sailpoint/``.

The SailPoint quirks the core handles for every client (each tested with ``sailpoint`` active) are
listed in docs/idp/sailpoint.md, "Quirks the core handles": this plugin only registers the client
and its set-up guide.
"""

from __future__ import annotations

from scimgate.hookspecs import ClientProfile, GuideField, SetupGuide, hookimpl


@hookimpl
def scimgate_register_clients() -> list[ClientProfile]:
    """Serve SailPoint IdentityIQ and IdentityNow."""
    return [
        ClientProfile("sailpoint", "SailPoint", "SailPoint IdentityIQ and IdentityNow SCIM 2.0 connectors")
    ]


@hookimpl
def scimgate_setup_guide(client: ClientProfile) -> SetupGuide:
    """The SCIM 2.0 source/application in SailPoint's words (docs/idp/sailpoint.md, §4-5)."""
    return SetupGuide(
        where="IdentityIQ: Applications → New → SCIM 2.0; Identity Security Cloud: Admin → "
        "Connections → Sources → Create new → SCIM 2.0",
        base_url_label="Base URL",
        auth_modes={"bearer": "API Token", "basic": "Basic Authentication"},
        fields=(
            GuideField("Non-compliant Server?", "unchecked"),
            GuideField("updateGroupsViaUsers", "off (memberships go through /Groups)"),
            GuideField("Page size", "1000", copyable=True),
        ),
        actions=(
            "Accounts: Create, Update, Enable/Disable, Delete",
            "Entitlements: Add and Remove (group membership)",
        ),
        quirks=(
            "Identity Security Cloud has no default create profile: set active: true in it.",
            "Change Password is not supported: sign-in is SAML.",
            "After Test Connection, run Account Aggregation and Entitlement Aggregation.",
        ),
        doc="docs/idp/sailpoint.md",
    )
