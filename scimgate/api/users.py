"""``/Users`` routes (RFC 7644 §3) over the users service."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from scimgate.api.resources import ResourceKind, register_resource
from scimgate.models import User
from scimgate.scim import schema
from scimgate.scim.projection import Projection
from scimgate.services import users


def render_users(
    items: list[User], projection: Projection, base: str, *, created: bool = False
) -> list[dict[str, Any]]:
    """Render users; their groups come from one statement, and only when ``groups`` is wanted
    (a user created by this very request belongs to no SCIM group yet: no statement at all)."""
    wanted = projection.wants("groups") and not created
    groups = users.groups_for_users([u.id for u in items]) if wanted else {}
    return [projection.apply(users.render_user(u, groups.get(u.id, []), base)) for u in items]


USERS = ResourceKind(
    schema=schema.USER,
    get=users.get_user,
    create=users.create_user,
    replace=users.replace_user,
    patch=users.patch_user,
    delete=users.delete_user,
    list=users.list_users,
    render_many=render_users,
    version_of=lambda user: user.scim.version,
)


def register(bp: Blueprint) -> None:
    """Register the /Users routes."""
    register_resource(bp, USERS)
