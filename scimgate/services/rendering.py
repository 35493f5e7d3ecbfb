"""The SCIM representation of users and groups (RFC 7643 §4), in one place.

Every response body of a user or a group, and the "current state" the PATCH engine and the
unsafe-text check start from, is made here: one function renders one resource, one renders a
page (reading the related resources of the whole page in one statement), and a large group's
``members`` can be written as a stream of JSON text instead of one list held in memory.

The HTTP side (plugins tuning the response, headers, the ``Response`` object) stays in ``api``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from scimgate.scim import urns
from scimgate.scim.projection import Projection
from scimgate.services import memberships, user_records
from scimgate.services.common import timestamp
from scimgate.services.group_records import GroupRecord
from scimgate.services.memberships import MemberRef
from scimgate.services.user_records import UserGroupRef, UserRecord


def _meta(resource_type: str, location: str, record: UserRecord | GroupRecord) -> dict[str, Any]:
    """A resource's ``meta`` (RFC 7643 §3.1): the same four fields for users and groups."""
    return {
        "resourceType": resource_type,
        "created": timestamp(record.created),
        "lastModified": timestamp(record.last_modified),
        "location": location,
        "version": f'W/"{record.version}"',
    }


def render_user(
    user: UserRecord, groups: list[UserGroupRef] | tuple[UserGroupRef, ...] | None, base_url: str
) -> dict[str, Any]:
    """Render the SCIM representation; unassigned attributes are left out (RFC 7643 §2.5)."""
    scim_id = user.scim_id
    resource: dict[str, Any] = {"schemas": [urns.USER], "id": scim_id}
    if user.external_id:
        resource["externalId"] = user.external_id
    resource["userName"] = user.username
    name = {k: v for k, v in (("givenName", user.first_name), ("familyName", user.last_name)) if v}
    if name:
        resource["name"] = name
    if user.display_name:
        resource["displayName"] = user.display_name
    if user.email:
        email: dict[str, Any] = {"value": user.email}
        if user.email_type:
            email["type"] = user.email_type
        if user.email_primary is not None:
            email["primary"] = user.email_primary
        resource["emails"] = [email]
    resource["active"] = bool(user.is_active and not user.is_suspended)
    if groups:
        resource["groups"] = [
            {"value": g.scim_id, "$ref": f"{base_url}/Groups/{g.scim_id}", "display": g.name} for g in groups
        ]
    resource["meta"] = _meta("User", f"{base_url}/Users/{scim_id}", user)
    return resource


def render_users(
    items: list[UserRecord], projection: Projection, base_url: str, *, created: bool = False
) -> list[dict[str, Any]]:
    """Render users; groups not read with the users come from one statement for the whole page,
    and only when ``groups`` is wanted (a user created by this very request belongs to no SCIM
    group yet: no statement at all)."""
    if not projection.wants("groups") or created:
        return [projection.apply(render_user(u, None, base_url)) for u in items]
    unread = [u.user_id for u in items if u.groups is None]
    fetched = user_records.groups_for_users(unread) if unread else {}
    return [projection.apply(render_user(u, fetched.get(u.user_id, u.groups), base_url)) for u in items]


def _member(member: MemberRef, base_url: str, display: bool) -> dict[str, Any]:
    """One entry of a group's ``members``. Its ``display`` is ``returned: request``: it is not
    what the client sent, so echoing it by default would make a PATCH read-back differ."""
    item: dict[str, Any] = {"value": member.scim_id, "$ref": f"{base_url}/Users/{member.scim_id}"}
    if display:
        item["display"] = member.display
    item["type"] = "User"
    return item


def render_group(
    group: GroupRecord, members: list[MemberRef] | None, base_url: str, *, member_display: bool = False
) -> dict[str, Any]:
    """Render the SCIM representation; ``members`` is None when it was not asked for.

    A member's ``display`` is ``returned: request`` (it is not what the client sent, so echoing
    it by default would make a PATCH read-back differ from the request).
    """
    resource: dict[str, Any] = {"schemas": [urns.GROUP], "id": group.scim_id}
    if group.external_id:
        resource["externalId"] = group.external_id
    resource["displayName"] = group.display_name
    if members:
        resource["members"] = [_member(m, base_url, member_display) for m in members]
    resource["meta"] = _meta("Group", f"{base_url}/Groups/{group.scim_id}", group)
    return resource


def render_groups(
    items: list[GroupRecord], projection: Projection, base_url: str, *, created: bool = False
) -> list[dict[str, Any]]:
    """Render groups; members come from one statement, and only when ``members`` is wanted."""
    members = memberships.active_members([g.group_id for g in items]) if projection.wants("members") else {}
    display = projection.requests("members", "display")
    return [
        projection.apply(render_group(g, members.get(g.group_id, []), base_url, member_display=display))
        for g in items
    ]


def streams_members(projection: Projection) -> bool:
    """Whether a group read may stream its members: they are wanted in full (an ``attributes``
    list that picks sub-attributes of ``members`` takes the in-memory path)."""
    return projection.wants("members") and projection.include is None and "members" not in projection.exclude


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def stream_group(
    head: dict[str, Any],
    group_id: int,
    first: list[MemberRef],
    last_user_id: int | None,
    base_url: str,
    *,
    member_display: bool,
    batch: int,
) -> Iterator[str]:
    """The JSON text of a large group: ``head`` (the group rendered without ``members``, as the
    client's plugins tuned it), then its members, ``first`` and the rest read ``batch`` at a time
    after ``last_user_id``. Memory stays flat whatever the group's size, and the members are what
    ``render_group`` gives (same order, same fields); ``members`` comes last in the object.

    Iterate it while the response is written: the member cursor lives in that transaction.
    """
    yield _json(head)[:-1] + ',"members":['
    yield ",".join(_json(_member(m, base_url, member_display)) for m in first)
    for members in memberships.iter_active_members(group_id, after_user_id=last_user_id, batch=batch):
        yield "," + ",".join(_json(_member(m, base_url, member_display)) for m in members)
    yield "]}"
