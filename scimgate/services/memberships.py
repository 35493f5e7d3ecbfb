"""Group membership rows: every change touches only the rows it names (O(changed), not O(group)).

Members are referenced by SCIM user id. Ids that are not SCIM users (a nested group, a stale or
mistyped id) are ignored and logged, never an error: one bad id must not fail an IdP's whole
membership push (fleetdm/fleet#50724).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from scimgate.db.connection import get_connection
from scimgate.logs import scim_logs as scim_logging
from scimgate.models import GroupMembership, ScimUser, User, UserProfile
from scimgate.scim.filter_sql import to_sql
from scimgate.scim.filters import Compare, Expr
from scimgate.services.attribute_maps import MEMBER_FILTER_ATTRIBUTES, MEMBER_FILTER_TABLES, user_is_active

CHUNK = 900  # stays below every SQLite build's bound-parameter limit


@dataclass(frozen=True)
class MemberRef:
    """An active member as responses list it."""

    scim_id: str
    display: str


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def member_values(raw: Any, context: str) -> list[str]:
    """Extract member ids from a ``members`` value list; malformed entries are ignored and logged."""
    items = raw if isinstance(raw, list) else [raw]
    values: list[str] = []
    for item in items:
        value = item.get("value") if isinstance(item, dict) else None
        member_type = item.get("type") if isinstance(item, dict) else None
        if not isinstance(value, str) or not value:
            scim_logging.lifecycle("group.member_ignored", context=context, reason="no string 'value'")
            continue
        if isinstance(member_type, str) and member_type.lower() == "group":
            scim_logging.lifecycle(
                "group.member_ignored", context=context, member=value, reason="nested group"
            )
            continue
        values.append(value)
    return list(dict.fromkeys(values))


def resolve_users(values: list[str], context: str) -> dict[str, int]:
    """Map SCIM user ids to user ids; unknown ids are logged and dropped."""
    found: dict[str, int] = {}
    for chunk in _chunks(values):
        rows = get_connection().execute(
            sa.select(ScimUser.scim_user_uuid, ScimUser.user_id).where(ScimUser.scim_user_uuid.in_(chunk))
        )
        found.update({scim_id: user_id for scim_id, user_id in rows})
    for value in values:
        if value not in found:
            scim_logging.lifecycle(
                "group.member_ignored", context=context, member=value, reason="not a SCIM user id"
            )
    return found


# PostgreSQL: one statement with the ids as one array parameter, so the server parses, plans and
# runs one command per chunk; an executemany, though psycopg pipelines it into one round trip,
# runs one command per row (110 vs 11 for a 100-member PATCH, tests/test_pgbouncer.py).
_ADD_ON_POSTGRESQL = (
    postgresql.insert(GroupMembership)
    .from_select(
        ["group_id", "user_id"],
        sa.select(
            sa.bindparam("group_id", type_=sa.Integer),
            sa.func.unnest(sa.bindparam("user_ids", type_=postgresql.ARRAY(sa.Integer))),
        ),
    )
    .on_conflict_do_nothing()
)


def _insert_ignoring_duplicates(group_id: int, user_ids: list[int]) -> None:
    """Insert the memberships not there yet, in ascending user id order (concurrent adds to one
    group then take the index's row locks in the same order)."""
    dialect = get_connection().dialect.name
    for chunk in _chunks(sorted(user_ids)):
        if dialect == "postgresql":
            get_connection().execute(_ADD_ON_POSTGRESQL, {"group_id": group_id, "user_ids": chunk})
            continue
        rows = [{"group_id": group_id, "user_id": user_id} for user_id in chunk]
        if dialect == "sqlite":
            get_connection().execute(sqlite.insert(GroupMembership).on_conflict_do_nothing(), rows)
        else:  # other databases: skip the ones already present
            present = set(
                get_connection().scalars(
                    sa.select(GroupMembership.user_id).where(
                        GroupMembership.group_id == group_id, GroupMembership.user_id.in_(chunk)
                    )
                )
            )
            new_rows = [r for r in rows if r["user_id"] not in present]
            if new_rows:
                get_connection().execute(sa.insert(GroupMembership), new_rows)


def add_members(group_id: int, values: list[str], context: str) -> list[str]:
    """Add members by SCIM id (idempotent); return the ids that were resolved."""
    resolved = resolve_users(values, context)
    if resolved:
        _insert_ignoring_duplicates(group_id, list(resolved.values()))
    return list(resolved)


def remove_members(group_id: int, values: list[str]) -> list[str]:
    """Remove members by SCIM id; removing a non-member is a no-op (Okta's documented example)."""
    removed: list[str] = []
    for chunk in _chunks(values):
        user_ids = sa.select(ScimUser.user_id).where(ScimUser.scim_user_uuid.in_(chunk))
        result = get_connection().execute(
            sa.delete(GroupMembership).where(
                GroupMembership.group_id == group_id, GroupMembership.user_id.in_(user_ids)
            )
        )
        if result.rowcount:
            removed.extend(chunk)
    return removed


_membership = GroupMembership.__table__.c
_REMOVE_BY_SCIM_ID = sa.delete(GroupMembership.__table__).where(
    _membership.group_id == sa.bindparam("group_id"),
    _membership.user_id.in_(
        sa.select(ScimUser.__table__.c.user_id).where(
            ScimUser.__table__.c.scim_user_uuid == sa.bindparam("scim_id")
        )
    ),
)


def _single_member_id(value_filter: Expr) -> str | None:
    """The id in ``members[value eq "<id>"]`` (Okta's removal of one member), else None."""
    if (
        not isinstance(value_filter, Compare)
        or value_filter.op != "eq"
        or not isinstance(value_filter.value, str)
    ):
        return None
    path = value_filter.path
    if path.schema is not None or path.sub_attr is not None or path.attr.lower() != "value":
        return None
    return value_filter.value


def remove_members_matching(group_id: int, value_filter: Expr) -> int:
    """Remove the members a path filter selects (``members[value eq "..."]``), in one statement
    (a prebuilt one for the usual single ``value eq`` removal)."""
    scim_id = _single_member_id(value_filter)
    if scim_id is not None:
        result = get_connection().execute(_REMOVE_BY_SCIM_ID, {"group_id": group_id, "scim_id": scim_id})
        return result.rowcount or 0
    link, user, profile = MEMBER_FILTER_TABLES
    condition: ColumnElement[bool] = to_sql(value_filter, MEMBER_FILTER_ATTRIBUTES, [])
    selected = (
        sa.select(link.user_id)
        .join(user, user.id == link.user_id)
        .join(profile, profile.user_id == link.user_id)
        .where(condition)
    )
    result = get_connection().execute(
        sa.delete(GroupMembership).where(
            GroupMembership.group_id == group_id, GroupMembership.user_id.in_(selected)
        )
    )
    return result.rowcount or 0


def clear_members(group_id: int) -> int:
    """Remove every membership row of a group."""
    result = get_connection().execute(sa.delete(GroupMembership).where(GroupMembership.group_id == group_id))
    return result.rowcount or 0


_MEMBER_BEYOND = (
    sa.select(_membership.user_id)
    .where(_membership.group_id == sa.bindparam("group_id"))
    .order_by(_membership.user_id)
    .offset(sa.bindparam("limit"))
    .limit(1)
)


def has_more_members_than(group_id: int, limit: int) -> bool:
    """True when the group has more than ``limit`` membership rows (active or not).

    Reads at most limit+1 entries of the membership key index and joins nothing, so deciding
    to answer a big group's PATCH with 204 stays cheap whatever the group's size.
    """
    return (
        get_connection().execute(_MEMBER_BEYOND, {"group_id": group_id, "limit": limit}).first() is not None
    )


def _active_member_rows(group_id: int) -> sa.Select:
    return (
        sa.select(GroupMembership.user_id, ScimUser.scim_user_uuid, UserProfile.display_name, User.username)
        .select_from(GroupMembership)
        .join(ScimUser, ScimUser.user_id == GroupMembership.user_id)
        .join(User, User.id == GroupMembership.user_id)
        .join(UserProfile, UserProfile.user_id == GroupMembership.user_id)
        .where(GroupMembership.group_id == group_id, user_is_active())
        .order_by(GroupMembership.user_id)
    )


def first_active_members(group_id: int, limit: int) -> tuple[list[MemberRef], int | None]:
    """Up to ``limit`` active members in user-id order, and the last user id read (for resuming)."""
    rows = get_connection().execute(_active_member_rows(group_id).limit(limit)).all()
    members = [MemberRef(scim_id, display or username) for _, scim_id, display, username in rows]
    return members, (rows[-1][0] if rows else None)


def iter_active_members(
    group_id: int, after_user_id: int | None = None, batch: int = 2000
) -> Iterator[list[MemberRef]]:
    """Active members of one group after ``after_user_id``, in batches streamed from the database
    (a server-side cursor on PostgreSQL), so a 100k-member group is never held in memory at once.
    Call it while the response is being written (the cursor lives in that transaction)."""
    statement = _active_member_rows(group_id)
    if after_user_id is not None:
        statement = statement.where(GroupMembership.user_id > after_user_id)
    result = get_connection().execute(statement.execution_options(yield_per=batch))
    for partition in result.partitions(batch):
        yield [MemberRef(scim_id, display or username) for _, scim_id, display, username in partition]


def active_members(group_ids: list[int]) -> dict[int, list[MemberRef]]:
    """Active members of many groups in one statement (deactivated/suspended ones are hidden)."""
    if not group_ids:
        return {}
    rows = get_connection().execute(
        sa.select(GroupMembership.group_id, ScimUser.scim_user_uuid, UserProfile.display_name, User.username)
        .join(ScimUser, ScimUser.user_id == GroupMembership.user_id)
        .join(User, User.id == GroupMembership.user_id)
        .join(UserProfile, UserProfile.user_id == GroupMembership.user_id)
        .where(GroupMembership.group_id.in_(group_ids), user_is_active())
        .order_by(GroupMembership.group_id, GroupMembership.user_id)
    )
    out: dict[int, list[MemberRef]] = {}
    for group_id, scim_id, display_name, username in rows:
        out.setdefault(group_id, []).append(MemberRef(scim_id, display_name or username))
    return out
