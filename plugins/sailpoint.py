"""SailPoint IdentityIQ and IdentityNow / Identity Security Cloud, one client name: ``sailpoint``.

Sources (IDP-QUIRKS §4, §5): IdentityIQ SCIM 2.0 connector
https://documentation.sailpoint.com/connectors/identityiq/scim_2_0/help/integrating_scim2/supported_features.html,
ISC SaaS prerequisites
https://documentation.sailpoint.com/connectors/saas/scim_2_0/help/saas_connectivity/scim_2_0_saas/prerequisites.html,
forum threads https://developer.sailpoint.com/discuss/t/scim-api-patch-op/7752 and
https://developer.sailpoint.com/discuss/t/scim-saas-connector-account-aggregation-fails-while-entitlement-aggregation-succeeds/91746,
and https://github.com/Captain-P-Goldfish/SCIM-SDK/issues/327.
Tests: ``tests/plugins/test_sailpoint.py``; captured shapes: ``tests/payloads/sailpoint/``.

Every SailPoint quirk is handled by the core for every client, so this plugin only registers the
client; each reading is tested with ``sailpoint`` active:
- enable/disable as a path-less ``add`` of ``{"active": false}`` (§5 "PATCH shape", forum 7752,
  rows 3 and 4): ``add`` on a single-valued attribute replaces it;
- one path-less ``replace`` per ``name`` sub-attribute (§4 "PATCH shape", SCIM-SDK#327, row 3): a
  complex value merges its sub-attributes (RFC 7644 §3.5.2.3) and never clears the other part;
- the discovery endpoints the compliant connector requires, including
  ``/Schemas/urn:ietf:params:scim:schemas:core:2.0:User`` (§4 "Connection / discovery", §5
  "Required endpoints", row 21);
- ``attributes=`` lists and delta filters joined by ``and`` (§5 "Aggregation", rows 11 and 13);
- a path-less ``add`` of a new primary email (assumed, §5 "PATCH shape", row 20): the newly added
  primary replaces the stored email.
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
