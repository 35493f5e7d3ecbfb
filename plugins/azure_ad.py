"""Microsoft Entra ID (Azure AD provisioning service), client name ``azure_active_directory``.

Sources (IDP-QUIRKS §2): "Develop and plan provisioning for a SCIM endpoint"
https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
and "Known issues ... SCIM 2.0 protocol compliance"
https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility.
Tests: ``tests/plugins/test_azure_ad.py``; captured shapes: ``tests/payloads/azure_ad/``.

Handled here (only while this client is active):
- capitalized ``Add``/``Replace``/``Remove`` (§2 "Update user", cross-IdP row 1) and
  ``"True"``/``"False"``/``"false"`` for booleans in PATCH and POST (§2 "Booleans as strings", row 2;
  https://github.com/AzureAD/SCIMReferenceCode/issues/21, https://github.com/scimmyjs/scimmy/issues/86):
  ``scimgate_normalize_request``;
- ``Replace`` on ``emails[type eq "work"].value`` when no work email exists, and the same key inside
  a path-less replace (row 5; https://github.com/Captain-P-Goldfish/SCIM-SDK/issues/416): turned into
  an ``add`` through the filter, in ``scimgate_normalize_request``;
- the matching filter ``emails[type eq "work"].value eq "x"`` (§2 "Filters", row 13):
  ``scimgate_normalize_filter``;
- 204 on group PATCH ("Update to the group PATCH request should yield an HTTP 204", §2
  "Membership", row 17): ``scimgate_tune_response``;
- bearer only (the reference: "Azure AD requires token authentication"; §2 "Auth", row 22):
  ``scimgate_auth_schemes``.

The quirks the core handles for every client (each tested with this client active) are listed
in docs/idp/azure_ad.md, "Quirks the core handles".
"""

from __future__ import annotations

import re
from typing import Any

from scimgate.hookspecs import ClientProfile, GuideField, ScimResponse, SetupGuide, hookimpl

CLIENT = "azure_active_directory"
_BOOLEAN_ATTRIBUTES = {"active", "primary"}

# Entra matches on `emails[type eq "work"].value eq "x"`, which RFC 7644's filter grammar does not
# allow after a value path; it means `emails[type eq "work" and value eq "x"]`.
_VALUE_PATH_COMPARE = re.compile(
    r"(?P<attr>[A-Za-z][\w$-]*)\[(?P<inner>[^\[\]]+)\]\.(?P<sub>[A-Za-z][\w$-]*)\s+"
    r'(?P<op>eq|ne|co|sw|ew|gt|ge|lt|le)\s+(?P<value>"(?:[^"\\]|\\.)*"|true|false|null|[-\d.eE+]+)',
    re.IGNORECASE,
)


def _coerce_boolean(value: Any) -> Any:
    """``"True"``/``"False"`` in any case become JSON booleans (Entra's default job sends them)."""
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return value


def _coerce_booleans_in(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _coerce_boolean(v)
            if isinstance(k, str) and k.lower() in _BOOLEAN_ATTRIBUTES
            else _coerce_booleans_in(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_coerce_booleans_in(v) for v in value]
    return value


def _path_attribute(path: Any) -> str:
    if not isinstance(path, str):
        return ""
    return path.rsplit(":", 1)[-1].split("[", 1)[0].split(".")[-1].lower()


def _split_filtered_keys(operation: Any) -> list[Any]:
    """Move value-filter keys of a path-less ``replace`` into their own ``add`` operations.

    With ``aadOptscim062020`` Entra sends path-less replaces whose keys are paths (IDP-QUIRKS §2
    "Update user"). A key such as ``emails[type eq "work"].value`` is assumed to arrive there too
    (grade: assumed, by analogy with the path form); as a key of a ``replace`` it would be
    ``noTarget`` when the user has no work email yet, so it gets the same treatment as the path
    form (row 5): an ``add`` through the filter, which updates the match or creates the element.
    """
    if not isinstance(operation, dict):
        return [operation]
    fields = {k.lower(): k for k in operation if isinstance(k, str)}
    op = operation.get(fields.get("op", "op"))
    value = operation.get(fields.get("value", "value"))
    if operation.get(fields.get("path", "path")) or not isinstance(op, str) or op.lower() != "replace":
        return [operation]
    if not isinstance(value, dict):
        return [operation]
    filtered = {k: v for k, v in value.items() if isinstance(k, str) and "[" in k}
    if not filtered:
        return [operation]
    rest = {k: v for k, v in value.items() if k not in filtered}
    split = [{"op": "add", "path": key, "value": v} for key, v in filtered.items()]
    return ([{**operation, fields.get("value", "value"): rest}] if rest else []) + split


@hookimpl
def scimgate_register_clients() -> list[ClientProfile]:
    """Serve Entra ID under the reference's client name."""
    return [ClientProfile(CLIENT, "Microsoft Entra ID", "Microsoft Entra ID (Azure AD) provisioning service")]


@hookimpl
def scimgate_auth_schemes(client: ClientProfile) -> list[str]:
    """Bearer only: the reference says "Azure AD requires token authentication", and Entra's
    provisioning service offers no username/password option (IDP-QUIRKS §2 "Auth")."""
    return ["bearer"]


@hookimpl
def scimgate_normalize_request(resource_type: str, action: str, payload: Any) -> None:
    """Rewrite Entra's PATCH and POST dialect into RFC 7644 shape."""
    if not isinstance(payload, dict):
        return
    if action in {"create", "replace"}:
        # MS reference-code tests POST "active": "True" (AzureAD/SCIMReferenceCode#21).
        for key in list(payload):
            if isinstance(key, str) and key.lower() == "active":
                payload[key] = _coerce_boolean(payload[key])
            elif isinstance(key, str) and key.lower() == "emails":
                payload[key] = _coerce_booleans_in(payload[key])
        return
    if action != "patch":
        return
    operations = next(
        (v for k, v in payload.items() if isinstance(k, str) and k.lower() == "operations"), None
    )
    if not isinstance(operations, list):
        return
    operations[:] = [split for operation in operations for split in _split_filtered_keys(operation)]
    for operation in operations:
        if not isinstance(operation, dict):
            continue
        op_key = next((k for k in operation if isinstance(k, str) and k.lower() == "op"), None)
        if op_key is not None and isinstance(operation[op_key], str):
            # "Replace"/"Add"/"Remove": Entra's default job capitalizes ops (IDP-QUIRKS row 1).
            operation["op"] = operation.pop(op_key).lower()
        if "value" in operation:
            attribute = _path_attribute(operation.get("path"))
            if attribute in _BOOLEAN_ATTRIBUTES:
                operation["value"] = _coerce_boolean(operation["value"])  # "False" (row 2)
            else:
                operation["value"] = _coerce_booleans_in(operation["value"])
        path = operation.get("path")
        if operation.get("op") == "replace" and isinstance(path, str) and path.lower().startswith("emails["):
            # Entra replaces `emails[type eq "work"].value` even when no work email exists yet;
            # as an `add` it creates the address instead of failing with noTarget (row 5,
            # Captain-P-Goldfish/SCIM-SDK#416).
            operation["op"] = "add"


@hookimpl
def scimgate_normalize_filter(filter_expr: str) -> str | None:
    """Turn ``emails[type eq "work"].value eq "x"`` into ``emails[type eq "work" and value eq "x"]``."""

    def rewrite(match: re.Match[str]) -> str:
        attr, inner, sub = match.group("attr"), match.group("inner"), match.group("sub")
        return f"{attr}[({inner}) and {sub} {match.group('op')} {match.group('value')}]"

    rewritten = _VALUE_PATH_COMPARE.sub(rewrite, filter_expr)
    return rewritten if rewritten != filter_expr else None


@hookimpl
def scimgate_tune_response(resource_type: str, action: str, response: ScimResponse) -> None:
    """Answer group PATCH with 204: Entra prefers it and does not read the body (row 17)."""
    if resource_type == "Group" and action == "patch" and response.status == 200:
        response.status = 204
        response.body = None
        response.headers.pop("Location", None)


@hookimpl
def scimgate_setup_guide(client: ClientProfile) -> SetupGuide:
    """Entra's Provisioning blade in its own words (docs/idp/azure_ad.md, IDP-QUIRKS §2)."""
    return SetupGuide(
        where="Microsoft Entra admin center: Enterprise applications → your app → Provisioning",
        base_url_label="Tenant URL",
        auth_modes={"bearer": "Secret Token (paste the token only, without 'Bearer')"},
        fields=(
            GuideField("Provisioning Mode", "Automatic"),
            GuideField("Matching attribute (users)", "userPrincipalName → userName (matching precedence 1)"),
            GuideField("Matching attribute (groups)", "displayName → displayName"),
            GuideField("Scope", "Sync only assigned users and groups"),
        ),
        actions=(
            "Provision Microsoft Entra ID Users",
            "Provision Microsoft Entra ID Groups",
            "Provisioning Status: On",
        ),
        quirks=(
            "Bearer token only: Entra offers no username and password, and Basic is refused while "
            "this client is active.",
            "Test Connection looks up a random user and expects an empty list.",
            "Appending ?aadOptscim062020 to the Tenant URL gives RFC-compliant PATCH requests; "
            "scimgate accepts both.",
            "A cycle runs about every 40 minutes; repeated failures put the job in quarantine.",
            "Group PATCH is answered 204, as Entra asks.",
        ),
        doc="docs/idp/azure_ad.md",
    )
