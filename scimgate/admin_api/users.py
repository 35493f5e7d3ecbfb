"""``/api/v1/users``, ``/api/v1/session`` and ``/api/v1/signup``."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from scimgate.accounts import policies, users
from scimgate.admin_api.access import is_admin, json_body, me, require_admin
from scimgate.admin_api.errors import ApiError
from scimgate.admin_api.serialize import user_json
from scimgate.signin import session as session_auth


def register(bp: Blueprint) -> None:
    """Add the user routes."""
    bp.add_url_rule("/session", "session", get_session, methods=["GET"])
    bp.add_url_rule("/signup", "signup", signup, methods=["POST"])
    bp.add_url_rule("/users", "users", list_users, methods=["GET"])
    bp.add_url_rule("/users/<int:user_id>", "user", get_user, methods=["GET"])
    bp.add_url_rule("/users/<int:user_id>/activate", "activate", activate, methods=["POST"])
    bp.add_url_rule("/users/<int:user_id>/suspend", "suspend", suspend, methods=["POST"])
    bp.add_url_rule("/users/<int:user_id>/profile", "profile", update_profile, methods=["PATCH"])
    bp.add_url_rule("/users/<int:user_id>/role", "role", set_role, methods=["PUT"])


def _one(user_id: int) -> Response:
    return jsonify(user_json(users.view(users.get(user_id))))


def get_session() -> Response:
    """The signed-in user and this session's CSRF token (send it as ``X-CSRF-Token``)."""
    return jsonify({"user": user_json(me()), "csrf_token": session_auth.csrf_token()})


def signup() -> Response:
    """Sign-up on the login screen: never offered under SAML (both columns of the table say No)."""
    policies.require("signup")
    raise ApiError(500, "unreachable", "sign-up is never allowed")  # pragma: no cover


def list_users() -> Response:
    """Every user (Server Admin)."""
    require_admin()
    everyone = users.all_users()
    memberships = users.groups_of([u.id for u in everyone])
    return jsonify({"users": [user_json(users.view(u, memberships[u.id])) for u in everyone]})


def get_user(user_id: int) -> Response:
    """One user (Server Admin, or the user themself)."""
    caller = me()
    if caller.user.id != user_id and not is_admin(caller):
        require_admin()
    return _one(user_id)


def activate(user_id: int) -> Response:
    """Activate (and approve) a user; with SCIM on, only accounts not pushed from the IdP."""
    require_admin()
    user = users.get(user_id)
    policies.require("activate_user", target_pushed=users.is_pushed(user))
    users.activate(user)
    return _one(user_id)


def suspend(user_id: int) -> Response:
    """Suspend a user; with SCIM on, only accounts not pushed from the IdP."""
    require_admin()
    user = users.get(user_id)
    policies.require("suspend_user", target_pushed=users.is_pushed(user))
    users.suspend(user)
    return _one(user_id)


def update_profile(user_id: int) -> Response:
    """Change display name and/or email (the user themself or an admin), unless SCIM supplies them."""
    caller = me()
    if caller.user.id != user_id:
        require_admin()
    body = json_body({"display_name", "email"})
    user = users.get(user_id)
    state = policies.current_state()
    if "display_name" in body:
        policies.require("change_display_name", state)
    if "email" in body:
        policies.require("change_email", state)
    users.update_profile(user, display_name=body.get("display_name"), email=body.get("email"))
    return _one(user_id)


def set_role(user_id: int) -> Response:
    """Assign a role to a user, unless roles come from groups."""
    require_admin()
    body = json_body({"role"})
    user = users.get(user_id)
    policies.require("assign_user_role")
    users.set_role(user, body.get("role"))
    return _one(user_id)
