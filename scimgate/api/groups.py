"""``/Groups`` routes (RFC 7644 §3) over the groups service."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from scimgate.api import group_stream
from scimgate.api.resources import ResourceKind, register_resource
from scimgate.scim import schema
from scimgate.scim.projection import Projection
from scimgate.services import groups, memberships
from scimgate.services.group_records import GroupRecord


def render_groups(
    items: list[GroupRecord], projection: Projection, base: str, *, created: bool = False
) -> list[dict[str, Any]]:
    """Render groups; members come from one statement, and only when ``members`` is wanted."""
    members = memberships.active_members([g.group_id for g in items]) if projection.wants("members") else {}
    display = projection.requests("members", "display")
    return [
        projection.apply(groups.render_group(g, members.get(g.group_id, []), base, member_display=display))
        for g in items
    ]


def patch_without_body(group: GroupRecord, projection: Projection) -> bool:
    """A PATCH of a group with more members than ``SCIM_PATCH_BODY_MAX_MEMBERS`` answers 204
    (RFC 7644 §3.5.2 allows it): one member change must not cost a 100k-member response. The
    count includes deactivated members, so the check reads one index and nothing else."""
    if not projection.wants("members"):
        return False
    limit = current_app.config["SCIM_PATCH_BODY_MAX_MEMBERS"]
    return memberships.has_more_members_than(group.group_id, limit)


def get_group_response(group: GroupRecord, projection: Projection, headers: dict[str, str]):
    """GET of a group with one member query, streamed when large (see ``group_stream``)."""
    return group_stream.group_response(group, projection, headers)


GROUPS = ResourceKind(
    schema=schema.GROUP,
    get=lambda scim_id, projection: groups.get_group(scim_id),
    create=groups.create_group,
    replace=groups.replace_group,
    patch=groups.patch_group,
    delete=groups.delete_group,
    list=groups.list_groups,
    render_many=render_groups,
    version_of=lambda group: group.version,
    patch_without_body=patch_without_body,
    stream_get=get_group_response,
)


def register(bp: Blueprint) -> None:
    """Register the /Groups routes."""
    register_resource(bp, GROUPS)
