"""Who may call what: the signed-in account, Server Admin checks and JSON bodies."""

from __future__ import annotations

from typing import Any

from flask import request

from scimgate.accounts.roles import Role
from scimgate.accounts.users import AccountView
from scimgate.admin_api.errors import ApiError
from scimgate.scim import json_input
from scimgate.scim.errors import ScimError
from scimgate.signin import session as session_auth

ADMIN_REQUIRED = "this action needs the Server Admin role"


def me() -> AccountView:
    """The signed-in account (the blueprint already refused requests without one)."""
    account = session_auth.current_account()
    if account is None:  # pragma: no cover - _authenticate ran first
        raise ApiError(401, "unauthenticated", "sign in first")
    return account


def is_admin(account: AccountView) -> bool:
    """True for the Server Admin role (the effective one, so group roles count)."""
    return account.role is Role.SERVER_ADMIN


def require_admin() -> AccountView:
    """Return the caller when a Server Admin, else refuse with 403 ``forbidden``."""
    account = me()
    if not is_admin(account):
        raise ApiError(403, "forbidden", ADMIN_REQUIRED)
    return account


def _read_json() -> Any:
    """Parse the body with the SCIM API's strict reader (no NaN, NUL, lone surrogate, deep nesting
    or out-of-range number reaches the database or a 500); None when it is not JSON at all."""
    if not request.is_json:
        return None
    try:
        text = request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_body", "the body is not valid UTF-8") from None
    if not text.strip():
        return None
    try:
        return json_input.loads(text)
    except ScimError as exc:
        raise ApiError(400, "invalid_body", exc.detail) from None


def json_body(allowed: set[str]) -> dict[str, Any]:
    """Return the JSON object body, refusing non-objects and keys outside ``allowed``."""
    body = _read_json()
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the body must be a JSON object (Content-Type: application/json)")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(400, "invalid_body", f"unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    return body
