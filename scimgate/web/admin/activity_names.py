"""Names beside the ids in SCIM request paths: ``/scim/v2/Users/<id>`` becomes "alice", linked to
her page, for a whole page of activity rows in ONE statement per resource kind (never one per row).

A path whose id names nothing now says so: ``(not found)`` when the request itself was answered
404 (no such resource then either), ``(deleted)`` otherwise (it existed when the request ran).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from scimgate.extensions import db
from scimgate.logs import scim_logs as scim_logging
from scimgate.logs.activity import ScimActivity
from scimgate.models import DirectoryGroup, ScimGroup, ScimUser, User

SCIM_ID_MAX = 64  # a SCIM id is a 36-character UUID; anything longer names nothing
_RESOURCE_PATH = re.compile(
    re.escape(scim_logging.SCIM_PATH_PREFIX) + r"/(Users|Groups)/([^/]{1," + str(SCIM_ID_MAX) + r"})"
)


@dataclass(frozen=True)
class Named:
    """What a request path's id names: the resource's page and name, or why there is none."""

    kind: str  # "Users" or "Groups"
    local_id: int | None  # the user's or group's own id (its admin page); None: nothing now
    name: str
    missing: str = ""  # "(deleted)" or "(not found)" when local_id is None


def resource_of(path: str) -> tuple[str, str] | None:
    """``("Users", id)`` or ``("Groups", id)`` for a path naming one resource, else None."""
    match = _RESOURCE_PATH.fullmatch(path)
    return (match.group(1), match.group(2)) if match else None


def _users(scim_ids: set[str]) -> dict[str, tuple[int, str]]:
    if not scim_ids:
        return {}
    rows = db.session.execute(
        sa.select(ScimUser.scim_user_uuid, User.id, User.username)
        .join(User, User.id == ScimUser.user_id)
        .where(ScimUser.scim_user_uuid.in_(scim_ids))
    )
    return {scim_id: (user_id, name) for scim_id, user_id, name in rows}


def _groups(scim_ids: set[str]) -> dict[str, tuple[int, str]]:
    if not scim_ids:
        return {}
    rows = db.session.execute(
        sa.select(ScimGroup.scim_group_uuid, DirectoryGroup.id, DirectoryGroup.external_unique_name)
        .join(DirectoryGroup, DirectoryGroup.id == ScimGroup.group_id)
        .where(ScimGroup.scim_group_uuid.in_(scim_ids))
    )
    return {scim_id: (group_id, name) for scim_id, group_id, name in rows}


def names(rows: Sequence[ScimActivity]) -> dict[int, Named]:
    """For each row (by its id) whose path names a user or a group: what it names now."""
    wanted = {row.id: found for row in rows if (found := resource_of(row.path))}
    found = {
        "Users": _users({scim_id for kind, scim_id in wanted.values() if kind == "Users"}),
        "Groups": _groups({scim_id for kind, scim_id in wanted.values() if kind == "Groups"}),
    }
    statuses = {row.id: row.status for row in rows} if wanted else {}
    out = {}
    for row_id, (kind, scim_id) in wanted.items():
        hit = found[kind].get(scim_id)
        if hit:
            out[row_id] = Named(kind=kind, local_id=hit[0], name=hit[1])
        else:
            missing = "(not found)" if statuses[row_id] == 404 else "(deleted)"
            out[row_id] = Named(kind=kind, local_id=None, name="", missing=missing)
    return out
