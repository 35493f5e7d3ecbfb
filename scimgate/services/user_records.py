"""How SCIM users are read: plain rows from SQL Core into a ``UserRecord``.

Reads are the bulk of an IdP's traffic (a sync looks every user up before it writes), so they
skip the ORM: a GET by id is one statement (the user, its profile and SCIM link, and its SCIM
groups through outer joins), and a page is one statement plus one for the groups of the whole
page. Writes (``services.user_writes``) read with the same statement and hand back the record as
written, so every response is rendered by the same function (``services.rendering``).
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import sqlalchemy as sa

from scimgate.db.connection import get_connection
from scimgate.db.prepared import Prepared
from scimgate.models import DirectoryGroup, GroupMembership, ScimGroup, ScimUser, User, UserProfile
from scimgate.services.common import read_by_scim_id

_user = User.__table__.c
_profile = UserProfile.__table__.c
_link = ScimUser.__table__.c
_group = DirectoryGroup.__table__.c
_group_link = ScimGroup.__table__.c
_membership = GroupMembership.__table__.c


class UserGroupRef(NamedTuple):
    """A group a user belongs to, as the read-only ``groups`` attribute shows it."""

    scim_id: str
    name: str


class UserRecord(NamedTuple):
    """What the SCIM representation of a user is made of (columns in ``USER_COLUMNS`` order).

    ``groups`` is None when not read yet (the renderer then fetches the groups of a whole page).
    """

    user_id: int
    scim_id: str
    external_id: str | None
    username: str
    first_name: str
    last_name: str
    display_name: str
    email: str
    email_type: str | None
    email_primary: bool | None
    is_active: bool
    is_suspended: bool
    created: Any
    last_modified: Any
    version: int
    groups: tuple[UserGroupRef, ...] | None = None


USER_COLUMNS = (
    _user.id,
    _link.scim_user_uuid,
    _link.external_id,
    _user.username,
    _user.first_name,
    _user.last_name,
    _profile.display_name,
    _user.email,
    _link.email_type,
    _link.email_primary,
    _user.is_active,
    _profile.is_suspended,
    _link.created,
    _link.last_modified,
    _link.version,
)
_WIDTH = len(USER_COLUMNS)
_USERS_JOIN = ScimUser.__table__.join(User.__table__, _user.id == _link.user_id).join(
    UserProfile.__table__, _profile.user_id == _user.id
)

# One user by a unique key (its SCIM id, or its userName: both have unique indexes), built once:
# alone, or with its SCIM groups (one row per group, or one row without a group).
_SCIM_GROUPS = DirectoryGroup.__table__.join(ScimGroup.__table__, _group_link.group_id == _group.id)
UNIQUE_KEYS = {"id": _link.scim_user_uuid, "username": _user.username}


def _by_key(column: Any, *, with_groups: bool) -> sa.Select:
    if not with_groups:
        return sa.select(*USER_COLUMNS).select_from(_USERS_JOIN).where(column == sa.bindparam("key"))
    return (
        sa.select(*USER_COLUMNS, _group_link.scim_group_uuid, _group.external_unique_name)
        .select_from(
            _USERS_JOIN.outerjoin(GroupMembership.__table__, _membership.user_id == _user.id).outerjoin(
                _SCIM_GROUPS, _group.id == _membership.group_id
            )
        )
        .where(column == sa.bindparam("key"))
        .order_by(_group.external_unique_name)
    )


_BY_KEY = {
    (name, with_groups): Prepared(_by_key(column, with_groups=with_groups))
    for name, column in UNIQUE_KEYS.items()
    for with_groups in (False, True)
}
_USERS = sa.select(*USER_COLUMNS).select_from(_USERS_JOIN)


def users_statement() -> sa.Select:
    """Every SCIM user's columns (built once); callers add filters, order and limits."""
    return _USERS


def record_from_row(row: Any) -> UserRecord:
    """A record from a row that starts with ``USER_COLUMNS`` (extra trailing columns ignored)."""
    return UserRecord(*row[:_WIDTH])


def find_user(key: str, value: str, *, with_groups: bool) -> UserRecord | None:
    """The SCIM user whose unique ``key`` (``id`` or ``username``) is ``value``, in one statement
    (with its groups when asked), or None."""
    rows = _BY_KEY[key, with_groups].rows({"key": value})
    if not rows:
        return None
    record = record_from_row(rows[0])
    if not with_groups:
        return record
    groups = tuple(UserGroupRef(row[_WIDTH], row[_WIDTH + 1]) for row in rows if row[_WIDTH] is not None)
    return record._replace(groups=groups)


def find_by_id(scim_id: str, *, with_groups: bool) -> UserRecord | None:
    """The SCIM user with this id (with its groups when asked), or None."""
    return find_user("id", scim_id, with_groups=with_groups)


def read_user(scim_id: str, *, with_groups: bool) -> UserRecord:
    """A SCIM user by id in one statement (with its groups when asked); unknown ids are 404."""
    return read_by_scim_id("User", scim_id, partial(find_by_id, with_groups=with_groups))


_GROUPS_OF_USERS = (
    sa.select(_membership.user_id, _group_link.scim_group_uuid, _group.external_unique_name)
    .select_from(
        GroupMembership.__table__.join(DirectoryGroup.__table__, _group.id == _membership.group_id).join(
            ScimGroup.__table__, _group_link.group_id == _group.id
        )
    )
    .where(_membership.user_id.in_(sa.bindparam("user_ids", expanding=True)))
    .order_by(_group.external_unique_name)
)


def groups_for_users(user_ids: list[int]) -> dict[int, list[UserGroupRef]]:
    """The SCIM groups of many users in one statement (built once; no per-row queries)."""
    if not user_ids:
        return {}
    out: dict[int, list[UserGroupRef]] = {}
    for user_id, scim_id, name in get_connection().execute(_GROUPS_OF_USERS, {"user_ids": user_ids}):
        out.setdefault(user_id, []).append(UserGroupRef(scim_id, name))
    return out
