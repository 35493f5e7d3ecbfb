"""How SCIM users are written: SQL Core statements, built once, on only the rows that change.

A SCIM user is three rows (``auth_user``, ``userprofile``, ``scim_user``). Through the ORM, a write
loaded all three into the identity map, tracked every attribute and worked out a flush plan:
about half of the CPU of a PATCH or POST. Here a write is the lock (PostgreSQL only), the one
statement ``user_records`` reads a user with, then one prebuilt ``UPDATE`` per table whose values
changed (the link row always does: version and lastModified), or the ``INSERT`` of each new row
(the account row with ``ON CONFLICT (username) DO NOTHING``, so a new username needs no lookup).
Every statement is ``Prepared`` (``scimgate.db.prepared``): compiled once, run on the cursor.

The rules of *what* to write (the reference's one email, ``active`` mapping) stay in
``services.users``; this module only persists a record's new field values and says what changed.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from scimgate.accounts.roles import DEFAULT_ROLE
from scimgate.db.connection import get_connection
from scimgate.db.prepared import Prepared
from scimgate.db.transactions import one_statement_write
from scimgate.logs import audit
from scimgate.models import ScimUser, User, UserProfile
from scimgate.services import user_records
from scimgate.services.common import read_by_scim_id
from scimgate.services.user_records import UserRecord

_user = User.__table__.c
_profile = UserProfile.__table__.c
_link = ScimUser.__table__.c

# A record field -> the SCIM attribute the audit trail and the lifecycle log name it by.
FIELD_LABELS = {
    "username": "userName",
    "first_name": "name.givenName",
    "last_name": "name.familyName",
    "display_name": "displayName",
    "email": "emails",
    "email_type": "emails.type",
    "email_primary": "emails.primary",
    "external_id": "externalId",
    "is_active": "active",
    "is_suspended": "suspended",
}
_USER_FIELDS = ("username", "first_name", "last_name", "email", "is_active")
_PROFILE_FIELDS = ("display_name", "is_suspended")
_LINK_FIELDS = ("external_id", "email_type", "email_primary", "version", "last_modified")

Changes = dict[str, tuple[Any, Any]]


def _update(table: sa.Table, key: sa.Column, fields: tuple[str, ...]) -> sa.Update:
    # Bind names differ from the column names: SQLAlchemy reserves those for its own SET params.
    return (
        sa.update(table)
        .where(key == sa.bindparam("row_key"))
        .values({f: sa.bindparam(f"new_{f}") for f in fields})
    )


_UPDATES = (
    (_USER_FIELDS, Prepared(_update(User.__table__, _user.id, _USER_FIELDS))),
    (_PROFILE_FIELDS, Prepared(_update(UserProfile.__table__, _profile.user_id, _PROFILE_FIELDS))),
    (_LINK_FIELDS, Prepared(_update(ScimUser.__table__, _link.user_id, _LINK_FIELDS))),
)
_LOCK = Prepared(
    sa.select(_link.user_id).where(_link.scim_user_uuid == sa.bindparam("key")).with_for_update()
)
_DELETE = Prepared(sa.delete(User.__table__).where(_user.id == sa.bindparam("row_key")))


def changes_between(record: UserRecord, values: dict[str, Any]) -> Changes:
    """``{SCIM attribute: (before, after)}`` for every field ``values`` changes on ``record``."""
    out: Changes = {}
    for field, value in values.items():
        before = getattr(record, field)
        if before != value:
            out[FIELD_LABELS[field]] = (before, value)
    return out


def read_for_write(scim_id: str, *, with_groups: bool = True) -> UserRecord:
    """The user a write is about (with its groups when the response shows them), read as a GET
    reads it; unknown or malformed ids are 404.

    The link row is locked first (``common.read_by_scim_id``).
    """
    return read_by_scim_id(
        "User", scim_id, partial(user_records.find_by_id, with_groups=with_groups), lock=_LOCK
    )


def _write_changed(before: UserRecord, after: UserRecord, updates: tuple = _UPDATES) -> None:
    """Run the ``UPDATE`` of each table whose fields differ (always the link's, when listed)."""
    for fields, statement in updates:
        if fields is _LINK_FIELDS or any(getattr(after, f) != getattr(before, f) for f in fields):
            params = {f"new_{f}": getattr(after, f) for f in fields}
            params["row_key"] = before.user_id
            statement.run(params)


def update(record: UserRecord, values: dict[str, Any], now: dt.datetime) -> UserRecord:
    """Write ``values`` (record fields) and a new version; return the user as written.

    Only tables with a changed value get an ``UPDATE``; the link row always does. A username
    taken by another user raises ``IntegrityError`` here, at the statement (callers turn it into
    409 ``uniqueness``).
    """
    written = record._replace(**values, version=record.version + 1, last_modified=now)
    _write_changed(record, written)
    return written


# A user with no values yet: what a new or adopted user's record starts from.
_BLANK = UserRecord(
    user_id=0,
    scim_id="",
    external_id=None,
    username="",
    first_name="",
    last_name="",
    display_name="",
    email="",
    email_type=None,
    email_primary=None,
    is_active=True,
    is_suspended=False,
    created=None,
    last_modified=None,
    version=0,
)


class Account(NamedTuple):
    """An account found by username before a create: may SCIM create, adopt, or must it refuse?"""

    user_id: int
    is_builtin: bool
    linked: bool
    has_profile: bool
    record: UserRecord  # its current fields, as the "before" of an adoption (link fields empty)


_ACCOUNT_BY_USERNAME = Prepared(
    sa.select(
        _user.id,
        _user.is_builtin,
        _link.user_id,
        _profile.user_id,
        _user.username,
        _user.first_name,
        _user.last_name,
        _profile.display_name,
        _user.email,
        _user.is_active,
        _profile.is_suspended,
    )
    .select_from(
        User.__table__.outerjoin(UserProfile.__table__, _profile.user_id == _user.id).outerjoin(
            ScimUser.__table__, _link.user_id == _user.id
        )
    )
    .where(_user.username == sa.bindparam("key"))
)


def account_named(username: str) -> Account | None:
    """The account with exactly this username (case-sensitive), linked or not, or None."""
    row = _ACCOUNT_BY_USERNAME.first({"key": username})
    if row is None:
        return None
    user_id, is_builtin, linked, profile, name, first, last, display, email, active, suspended = row
    record = _BLANK._replace(
        user_id=user_id,
        username=name,
        first_name=first,
        last_name=last,
        display_name=display or "",
        email=email,
        is_active=active,
        is_suspended=bool(suspended),
    )
    return Account(user_id, bool(is_builtin), linked is not None, profile is not None, record)


# The columns every account INSERT gives (all of them: prepared statements take no Python defaults).
ACCOUNT_INSERT_KEYS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "date_joined",
    "is_builtin",
    "role",
    "approval_pending",
)
_PROFILE_INSERT_KEYS = ("display_name", "is_suspended")
_LINK_INSERT_KEYS = (
    "scim_user_uuid",
    "client",
    "external_id",
    "email_type",
    "email_primary",
    "created",
    "last_modified",
    "version",
)
_INSERT_USER = Prepared(sa.insert(User.__table__).returning(_user.id), keys=ACCOUNT_INSERT_KEYS)
# The usual create: the account row, unless that username exists (then no row comes back and the
# caller decides between adoption and 409), in one statement instead of a lookup and an insert.
# Both supported databases (SQLite 3.35+, PostgreSQL) have INSERT ... ON CONFLICT DO NOTHING.
_INSERT_NEW_USER = {
    name: Prepared(
        dialect_insert(User.__table__)
        .on_conflict_do_nothing(index_elements=[_user.username])
        .returning(_user.id),
        keys=ACCOUNT_INSERT_KEYS,
    )
    for name, dialect_insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}
_INSERT_PROFILE = Prepared(sa.insert(UserProfile.__table__), keys=("user_id", *_PROFILE_INSERT_KEYS))
_INSERT_LINK = Prepared(sa.insert(ScimUser.__table__), keys=("user_id", *_LINK_INSERT_KEYS))


def _create_in_one_statement() -> Prepared:
    """PostgreSQL: a new user's four rows (account, profile, SCIM link, audit event) in one
    statement, or none of them when the username is taken (then no row comes back).

    The account ``INSERT ... ON CONFLICT (username) DO NOTHING RETURNING id`` is a data-modifying
    CTE; the profile, the link and the audit event are inserted from its result, so a taken
    name inserts nothing at all. One statement is atomic, so it runs as the request's whole
    transaction (``db.transactions.one_statement_write``): 2 round trips for a create (the
    credential check's token read and this) instead of 7 (``BEGIN``, four ``INSERT``s,
    ``COMMIT``). SQLite has no data-modifying CTEs; it runs the four statements
    (``insert_if_new``) in the transaction its ``BEGIN IMMEDIATE`` opened.
    """
    account_columns = User.__table__.c
    new_account = (
        postgresql.insert(User.__table__)
        .values({key: sa.bindparam(key, type_=account_columns[key].type) for key in ACCOUNT_INSERT_KEYS})
        .on_conflict_do_nothing(index_elements=[_user.username])
        .returning(_user.id)
        .cte("new_account")
    )

    def from_new_account(
        table: sa.Table, keys: tuple[str, ...], prefix: str, key_column: str | None
    ) -> sa.CTE:
        binds = [sa.bindparam(f"{prefix}{key}", type_=table.c[key].type) for key in keys]
        columns = [key_column, *keys] if key_column else list(keys)
        selected = [new_account.c.id, *binds] if key_column else binds
        rows = sa.select(*selected).select_from(new_account)
        return sa.insert(table).from_select(columns, rows).cte(f"new_{table.name}")

    return Prepared(
        sa.select(new_account.c.id).add_cte(
            from_new_account(UserProfile.__table__, _PROFILE_INSERT_KEYS, "", "user_id"),
            from_new_account(ScimUser.__table__, _LINK_INSERT_KEYS, "", "user_id"),
            from_new_account(audit.AuditEvent.__table__, audit.EVENT_KEYS, "audit_", None),
        )
    )


_CREATE_IN_ONE_STATEMENT = _create_in_one_statement()


def insert_if_new(
    values: dict[str, Any], scim_id: str, client: str, now: dt.datetime, event: dict[str, Any]
) -> UserRecord | None:
    """Create the rows of a new SCIM user and record ``event`` (an ``audit.event_row``), or write
    nothing and return None when an account of that username exists (linked or not: the caller
    looks it up with ``account_named``)."""
    written = _new_record(values, scim_id, now)
    connection = get_connection()
    if connection.dialect.name == "postgresql":
        params = {
            **_user_row(written, now),
            **_profile_row(written),
            **_link_row(written, client, now),
            **{f"audit_{key}": value for key, value in event.items()},
        }
        with one_statement_write():
            rows = _CREATE_IN_ONE_STATEMENT.rows(params)
        return written._replace(user_id=rows[0][0], groups=()) if rows else None
    rows = _INSERT_NEW_USER[connection.dialect.name].rows(_user_row(written, now))
    if not rows:
        return None
    linked = _link(written._replace(user_id=rows[0][0]), client, now, new_profile=True)
    audit.insert_event(event)
    return linked


def insert(
    values: dict[str, Any], scim_id: str, client: str, now: dt.datetime, adopt: Account | None
) -> UserRecord:
    """Create the rows of a new SCIM user, or link (adopt) ``adopt`` and write ``values`` onto it.

    Returns the user as written (no groups: a user linked by this request is in no SCIM group).
    A username or link that another request created first raises ``IntegrityError`` here.
    """
    if adopt is None:
        written = _new_record(values, scim_id, now)
        written = written._replace(user_id=_INSERT_USER.scalar(_user_row(written, now)))
        return _link(written, client, now, new_profile=True)
    written = adopt.record._replace(scim_id=scim_id, created=now, last_modified=now, version=1, **values)
    _write_changed(adopt.record, written, _UPDATES[:2])  # the link row is inserted by _link
    return _link(written, client, now, new_profile=not adopt.has_profile)


def _new_record(values: dict[str, Any], scim_id: str, now: dt.datetime) -> UserRecord:
    return _BLANK._replace(scim_id=scim_id, created=now, last_modified=now, version=1, **values)


def _user_row(written: UserRecord, now: dt.datetime) -> dict[str, Any]:
    return {
        "username": written.username,
        "first_name": written.first_name,
        "last_name": written.last_name,
        "email": written.email,
        "is_active": written.is_active,
        "date_joined": now,
        "is_builtin": False,
        "role": DEFAULT_ROLE.value,
        "approval_pending": False,
    }


def _link(written: UserRecord, client: str, now: dt.datetime, *, new_profile: bool) -> UserRecord:
    """Insert the profile row (when the account has none) and the SCIM link of ``written``."""
    if new_profile:
        _INSERT_PROFILE.run({"user_id": written.user_id, **_profile_row(written)})
    _INSERT_LINK.run({"user_id": written.user_id, **_link_row(written, client, now)})
    return written._replace(groups=())


def _profile_row(written: UserRecord) -> dict[str, Any]:
    return {"display_name": written.display_name, "is_suspended": written.is_suspended}


def _link_row(written: UserRecord, client: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "scim_user_uuid": written.scim_id,
        "client": client,
        "external_id": written.external_id,
        "email_type": written.email_type,
        "email_primary": written.email_primary,
        "created": now,
        "last_modified": now,
        "version": 1,
    }


def delete(record: UserRecord) -> None:
    """Delete the account: ``ON DELETE CASCADE`` removes its profile, link and memberships."""
    _DELETE.run({"row_key": record.user_id})
