"""``/api/v1/settings``: the three application settings, and what the policies allow now."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from scimgate.accounts import policies, settings
from scimgate.admin_api.access import json_body, require_admin
from scimgate.admin_api.errors import ApiError
from scimgate.conf import saml as saml_config

ENABLE_ROWS = policies.ENABLE_ROWS


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
    """Change settings; refused when the policies say so (a table row, or the lock-out rule)."""
    require_admin()
    body = json_body(set(settings.API_NAMES))
    for name, value in body.items():
        if not isinstance(value, bool):
            raise ApiError(400, "invalid_value", f"{name} must be true or false")
    changes = {name: value for name, value in body.items() if value != settings.stored(name)}
    policies.require_settings_change(changes)
    settings.write(body)
    return jsonify(_body())
