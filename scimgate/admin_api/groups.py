"""``/api/v1/groups``: application-defined groups by hand; SCIM groups only get roles."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from scimgate.accounts import groups as app_groups
from scimgate.accounts import policies
from scimgate.admin_api.access import json_body, require_admin
from scimgate.admin_api.serialize import group_json
from scimgate.models import DirectoryGroup


def register(bp: Blueprint) -> None:
    """Add the group routes."""
    bp.add_url_rule("/groups", "groups", list_groups, methods=["GET"])
    bp.add_url_rule("/groups", "group_create", create_group, methods=["POST"])
    bp.add_url_rule("/groups/<int:group_id>", "group", get_group, methods=["GET"])
    bp.add_url_rule("/groups/<int:group_id>", "group_update", update_group, methods=["PATCH"])
    bp.add_url_rule("/groups/<int:group_id>", "group_delete", delete_group, methods=["DELETE"])
    bp.add_url_rule("/groups/<int:group_id>/role", "group_role", set_group_role, methods=["PUT"])


def _json(group: DirectoryGroup, status: int = 200) -> tuple[Response, int]:
    return jsonify(group_json(group, app_groups.member_ids([group.id])[group.id])), status


def _is_scim(group: DirectoryGroup) -> bool:
    return app_groups.kind_of(group) is app_groups.GroupKind.SCIM


def list_groups() -> Response:
    """Every group, application-defined and SCIM (Server Admin)."""
    require_admin()
    everything = app_groups.all_groups()
    members = app_groups.member_ids([g.id for g in everything])
    return jsonify({"groups": [group_json(g, members[g.id]) for g in everything]})


def get_group(group_id: int) -> tuple[Response, int]:
    """One group (Server Admin)."""
    require_admin()
    return _json(app_groups.get(group_id))


def create_group() -> tuple[Response, int]:
    """Create an application-defined group; ``"kind": "scim"`` asks for a SCIM group (never allowed)."""
    require_admin()
    body = json_body({"name", "members", "role", "kind"})
    state = policies.current_state()
    if body.get("kind", app_groups.GroupKind.APPLICATION.value) != app_groups.GroupKind.APPLICATION.value:
        policies.require("create_delete_scim_group", state)
    policies.require("manage_app_group", state)
    if body.get("role") is not None:
        policies.require("assign_group_role", state)
    group = app_groups.create_app_group(body.get("name"), body.get("members"), body.get("role"))
    return _json(group, 201)


def update_group(group_id: int) -> tuple[Response, int]:
    """Rename an application-defined group or replace its members."""
    require_admin()
    body = json_body({"name", "members"})
    group = app_groups.get(group_id)
    policies.require("edit_scim_group" if _is_scim(group) else "manage_app_group")
    app_groups.update_app_group(group, name=body.get("name"), members=body.get("members"))
    return _json(group)


def delete_group(group_id: int) -> tuple[str, int]:
    """Delete an application-defined group (a SCIM group is deleted only by the IdP)."""
    require_admin()
    group = app_groups.get(group_id)
    policies.require("create_delete_scim_group" if _is_scim(group) else "manage_app_group")
    app_groups.delete_group(group)
    return "", 204


def set_group_role(group_id: int) -> tuple[Response, int]:
    """Map a role to any group (``null`` removes it); allowed in every state."""
    require_admin()
    body = json_body({"role"})
    group = app_groups.get(group_id)
    policies.require("assign_group_role")
    app_groups.set_group_role(group, body.get("role"))
    return _json(group)
