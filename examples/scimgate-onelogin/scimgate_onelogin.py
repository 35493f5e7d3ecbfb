"""OneLogin (SCIM Provisioner with SAML apps) as a scimgate client: ``onelogin``.

An example third-party plugin: it ships in its own distribution, is found through the ``scimgate``
entry-point group, and needs no change to scimgate's core.

What OneLogin sends, with the evidence found (grades as in scimgate's IDP-QUIRKS.md: **doc**
vendor documentation, **obs** third-party documentation or reports, **assumed** no public source):

1. The "SCIM Provisioner with SAML (Core Schema)" app builds the body from an admin-edited
   "SCIM JSON Template" whose published example lists the SCIM 1.x URN
   ``"schemas": ["urn:scim:schemas:core:1.0"]`` (obs: https://scim.dev/guide/applications/onelogin).
   scimgate's core refuses a body whose ``schemas`` lacks the SCIM 2.0 core URN (400); this plugin
   maps the 1.x core URN to the 2.0 URN of the endpoint's resource type.
2. Templates in the wild write ``"active": "{$user.active}"`` inside quotes, so the substituted value
   is a *string* ("true"/"false"), and add ``"id": null`` (obs:
   https://doc.keepnetlabs.com/next-generation-product/platform/company/company-settings/scim-settings/onelogin-scim-integration).
   The plugin coerces the string; ``null`` attributes are already treated as absent by the core.
   That OneLogin may also substitute ``"1"``/``"0"`` is an assumption, tolerated for ``active`` only.
3. Every OneLogin SCIM Provisioner set-up asks for a "SCIM Base URL" and a "SCIM Bearer Token";
   none offers username/password (obs: the two guides above and
   https://www.livingsecurity.com/migration/support/configuring-scim-for-onelogin). The plugin
   therefore allows Bearer only.

Group membership is assumed to arrive as RFC 7644 ``add``/``remove`` on ``members`` (with or
without a value filter); the core reads all those shapes, so no hook is needed (assumed).
"""

from __future__ import annotations

from typing import Any

from scimgate.hookspecs import ClientProfile, GuideField, SetupGuide, hookimpl

__version__ = "0.1.0"

CLIENT = "onelogin"
SCIM1_CORE = "urn:scim:schemas:core:1.0"
SCIM2_CORE = {
    "User": "urn:ietf:params:scim:schemas:core:2.0:User",
    "Group": "urn:ietf:params:scim:schemas:core:2.0:Group",
}
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


@hookimpl
def scimgate_register_clients() -> list[ClientProfile]:
    """Serve OneLogin; ``scimgate scim set-client onelogin`` then accepts the name."""
    return [ClientProfile(CLIENT, "OneLogin", "OneLogin SCIM Provisioner with SAML (Core Schema / SCIM v2)")]


@hookimpl
def scimgate_auth_schemes(client: ClientProfile) -> list[str]:
    """Bearer only: OneLogin's SCIM Provisioner apps configure a "SCIM Bearer Token" (quirk 3)."""
    return ["bearer"]


@hookimpl
def scimgate_normalize_request(resource_type: str, action: str, payload: Any) -> None:
    """Map the SCIM 1.x core URN to 2.0 (quirk 1) and a templated string ``active`` to a boolean (2)."""
    if action not in {"create", "replace"} or not isinstance(payload, dict):
        return
    schemas = payload.get("schemas")
    if isinstance(schemas, list) and resource_type in SCIM2_CORE:
        urn = SCIM2_CORE[resource_type]
        mapped = [urn if s == SCIM1_CORE else s for s in schemas]
        payload["schemas"] = list(dict.fromkeys(mapped))
    active = payload.get("active")
    if isinstance(active, str):
        lowered = active.strip().lower()
        if lowered in _TRUE:
            payload["active"] = True
        elif lowered in _FALSE:
            payload["active"] = False


@hookimpl
def scimgate_setup_guide(client: ClientProfile) -> SetupGuide:
    """OneLogin's Configuration and Provisioning tabs in its own words (README.md, quirk 3)."""
    return SetupGuide(
        where="OneLogin: Applications → your SCIM Provisioner with SAML app → Configuration",
        base_url_label="SCIM Base URL",
        auth_modes={"bearer": "SCIM Bearer Token"},
        fields=(
            GuideField(
                "SCIM JSON Template",
                "keep userName, name.givenName, name.familyName, one primary email, displayName, active",
            ),
        ),
        actions=(
            "Provisioning tab: Enable provisioning",
            "Create user, Update user, Deactivate user",
            "Push the roles or groups you want as SCIM groups",
        ),
        quirks=(
            "Bearer token only: OneLogin offers no username and password.",
            "The Core Schema template's SCIM 1.x URN and quoted active values are read by this plugin.",
        ),
        doc="examples/scimgate-onelogin/README.md",
    )
