"""``/api/v1/settings``: the three application settings, and what the policies allow now."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from scimgate import policies, saml_config
from scimgate.accounts import settings
from scimgate.admin_api import ApiError
from scimgate.admin_api.access import json_body, require_admin

# Turning a setting on is the action of this row (turning it off is always allowed).
ENABLE_ROWS = {
    "moderation": "moderate_signups",
    "custom_groups_manage_activation": "enable_custom_groups_activation",
}


def register(bp: Blueprint) -> None:
    """Add the settings routes."""
    bp.add_url_rule("/settings", "settings", get_settings, methods=["GET"])
    bp.add_url_rule("/settings", "settings_put", put_settings, methods=["PUT"])


def _body() -> dict[str, Any]:
    state = policies.current_state()
    return {
        **settings.current().as_dict(),
        "scim_sync_enabled": state.scim_enabled,
        "saml_enabled": saml_config.get_saml_status()["enabled"],
        "policies": {
            row.key: {"action": row.action, "allowed": policies.is_allowed(row.key, state)}
            for row in (*policies.SCIM_TABLE, *policies.ROLE_TABLE)
        },
    }


def get_settings() -> Response:
    """The effective settings, the SCIM/SAML state and each policy row's answer now."""
    require_admin()
    return jsonify(_body())


def put_settings() -> Response:
    """Change settings; turning one on is refused when the policies say so."""
    require_admin()
    body = json_body(set(settings.API_NAMES))
    for name, value in body.items():
        if not isinstance(value, bool):
            raise ApiError(400, "invalid_value", f"{name} must be true or false")
    state = policies.current_state()
    for name, row in ENABLE_ROWS.items():
        if body.get(name) is True:
            policies.require(row, state)
    if body.get("groups_assign_roles") is True and not state.groups_assign_roles:
        policies.require_groups_assign_roles_safe()
    settings.write(body)
    return jsonify(_body())
