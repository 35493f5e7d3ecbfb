"""``/Users`` routes (RFC 7644 §3) over the users service."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from scimgate.api.resources import ResourceKind, register_resource
from scimgate.scim import schema
from scimgate.scim.projection import Projection
from scimgate.services import user_records, users
from scimgate.services.user_records import UserRecord


def render_users(
    items: list[UserRecord], projection: Projection, base: str, *, created: bool = False
) -> list[dict[str, Any]]:
    """Render users; groups not read with the users come from one statement for the whole page,
    and only when ``groups`` is wanted (a user created by this very request belongs to no SCIM
    group yet: no statement at all)."""
    if not projection.wants("groups") or created:
        return [projection.apply(user_records.render_user(u, None, base)) for u in items]
    unread = [u.user_id for u in items if u.groups is None]
    fetched = user_records.groups_for_users(unread) if unread else {}
    return [
        projection.apply(user_records.render_user(u, fetched.get(u.user_id, u.groups), base)) for u in items
    ]


def get_user(scim_id: str, projection: Projection) -> UserRecord:
    """One user by id, with its groups in the same statement when the response shows them."""
    return user_records.read_user(scim_id, with_groups=projection.wants("groups"))


USERS = ResourceKind(
    schema=schema.USER,
    get=get_user,
    create=users.create_user,
    replace=users.replace_user,
    patch=users.patch_user,
    delete=users.delete_user,
    list=users.list_users,
    render_many=render_users,
    version_of=lambda user: user.version,
)


def register(bp: Blueprint) -> None:
    """Register the /Users routes."""
    register_resource(bp, USERS)
