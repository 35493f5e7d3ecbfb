"""How SCIM users are written: SQL Core statements, built once, on only the rows that change.

A SCIM user is three rows (``auth_user``, ``userprofile``, ``scim_user``). Through the ORM, a write
loaded all three into the identity map, tracked every attribute and worked out a flush plan:
about half of the CPU of a PATCH or POST. Here a write reads the user with the one statement
``user_records`` reads it with, then writes only the tables whose values changed (the link row
always: version and lastModified), or inserts the new rows (the account row with ``ON CONFLICT
(username) DO NOTHING``, so a new username needs no lookup). On SQLite those are one prebuilt
statement per table, inside the ``BEGIN IMMEDIATE`` that holds the write lock; on PostgreSQL a
create and an update are one statement each (``services.user_statements``), the update checking
the version it read instead of locking first. Every statement is ``Prepared``
(``scimgate.db.prepared``): compiled once, run on the cursor.

The rules of *what* to write (the reference's one email, ``active`` mapping) stay in
``services.users``; this module only persists a record's new field values and says what changed.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from scimgate.accounts.roles import DEFAULT_ROLE
from scimgate.db.connection import get_connection
from scimgate.db.prepared import Prepared
from scimgate.db.request_state import current_state
from scimgate.db.transactions import WriteConflict, before_the_write, one_statement_write
from scimgate.logs import audit
from scimgate.models import ScimUser, User, UserProfile
from scimgate.services import user_records, user_statements
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


def read_for_update(scim_id: str) -> UserRecord:
    """The user a PATCH or PUT is about, with its groups; unknown or malformed ids are 404.

    On PostgreSQL it is read without a lock and outside a transaction: ``update`` then writes in
    one statement only if the version read here still holds. After such a write found the
    version moved (``RequestState.write_conflicts``), the request runs again and this reads
    under the row lock, as ``read_for_write`` does, so contenders for one user queue for its
    lock instead of retrying each other out. SQLite's write lock is already held.
    """
    state = current_state()
    if get_connection().dialect.name != "postgresql" or (state is not None and state.write_conflicts):
        return read_for_write(scim_id)
    read = partial(user_records.find_by_id, with_groups=True)
    return before_the_write(partial(read_by_scim_id, "User", scim_id, read))


def _changed(before: UserRecord, after: UserRecord, fields: tuple[str, ...]) -> bool:
    return any(getattr(after, f) != getattr(before, f) for f in fields)


def _write_changed(before: UserRecord, after: UserRecord, updates: tuple = _UPDATES) -> None:
    """Run the ``UPDATE`` of each table whose fields differ (always the link's, when listed)."""
    for fields, statement in updates:
        if fields is _LINK_FIELDS or _changed(before, after, fields):
            params = {f"new_{f}": getattr(after, f) for f in fields}
            params["row_key"] = before.user_id
            statement.run(params)


# PostgreSQL: the writes of an update in one statement, for each pair (account changed, profile
# changed) (``services.user_statements``).
_UPDATE_IN_ONE_STATEMENT = {
    (account, profile): user_statements.update_statement(
        _USER_FIELDS if account else (), _PROFILE_FIELDS if profile else (), _LINK_FIELDS
    )
    for account in (False, True)
    for profile in (False, True)
}


def update(record: UserRecord, values: dict[str, Any], now: dt.datetime, event: dict[str, Any]) -> UserRecord:
    """Write ``values`` (record fields), a new version and ``event`` (an ``audit.event_row``);
    return the user as written.

    Only tables with a changed value are written; the link row always is. A username taken by
    another user raises ``IntegrityError`` here, at the statement (callers turn it into 409
    ``uniqueness``). On PostgreSQL it is one statement that writes only if the user still has
    the version it was read with; otherwise nothing is written and ``WriteConflict`` runs the
    request again (``db.transactions.retry_transaction``).
    """
    written = record._replace(**values, version=record.version + 1, last_modified=now)
    if get_connection().dialect.name != "postgresql":
        _write_changed(record, written)
        audit.insert_event(event)
        return written
    account = _changed(record, written, _USER_FIELDS)
    profile = _changed(record, written, _PROFILE_FIELDS)
    fields = _LINK_FIELDS + (_USER_FIELDS if account else ()) + (_PROFILE_FIELDS if profile else ())
    params = {f"new_{f}": getattr(written, f) for f in fields}
    params.update(row_key=record.user_id, old_version=record.version, **_audit_params(event))
    with one_statement_write():
        rows = _UPDATE_IN_ONE_STATEMENT[account, profile].rows(params)
    if not rows:
        raise WriteConflict(f"User '{record.scim_id}' changed or was deleted since it was read")
    return written


def _audit_params(event: dict[str, Any]) -> dict[str, Any]:
    return {f"{user_statements.AUDIT_PREFIX}{key}": value for key, value in event.items()}


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
# The usual create on SQLite (3.35+): the account row, unless that username exists (then no row
# comes back and the caller decides between adoption and 409), in one statement instead of a
# lookup and an insert. PostgreSQL does the same inside ``_CREATE_IN_ONE_STATEMENT``.
_INSERT_NEW_USER = Prepared(
    sqlite.insert(User.__table__).on_conflict_do_nothing(index_elements=[_user.username]).returning(_user.id),
    keys=ACCOUNT_INSERT_KEYS,
)
_INSERT_PROFILE = Prepared(sa.insert(UserProfile.__table__), keys=("user_id", *_PROFILE_INSERT_KEYS))
_INSERT_LINK = Prepared(sa.insert(ScimUser.__table__), keys=("user_id", *_LINK_INSERT_KEYS))


# PostgreSQL: the four rows in one statement (``services.user_statements``).
_CREATE_IN_ONE_STATEMENT = user_statements.create_statement(
    ACCOUNT_INSERT_KEYS, _PROFILE_INSERT_KEYS, _LINK_INSERT_KEYS
)


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
            **_audit_params(event),
        }
        with one_statement_write():
            rows = _CREATE_IN_ONE_STATEMENT.rows(params)
        return written._replace(user_id=rows[0][0], groups=()) if rows else None
    rows = _INSERT_NEW_USER.rows(_user_row(written, now))
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
