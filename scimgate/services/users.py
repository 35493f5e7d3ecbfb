"""User resources: create, read, list, replace, patch, delete (RFC 7644 §3.3 to §3.6).

The reference's rules live here: the username is unique and case-sensitive; one email is stored
(primary first, else alphabetically first); ``active`` maps to ``is_active``/``is_suspended``.
Reads come from ``user_records`` and writes go through ``user_writes`` (SQL Core, no ORM).
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from scimgate.accounts import users as accounts
from scimgate.extensions import db
from scimgate.logs import audit
from scimgate.logs import scim_logs as scim_logging
from scimgate.models import ScimUser, User, utcnow
from scimgate.scim import schema as scim_schema
from scimgate.scim import urns
from scimgate.scim.errors import InvalidValue, Uniqueness
from scimgate.scim.filter_sql import to_sql
from scimgate.scim.filters import Compare, Expr
from scimgate.scim.patch import Operation, PatchEngine
from scimgate.services import user_records, user_writes
from scimgate.services.attribute_maps import USER_ATTRIBUTES
from scimgate.services.common import (
    ListQuery,
    Page,
    check_if_match,
    paginate,
    sort_column,
    unique_conflicts,
)
from scimgate.services.payloads import USER_SCHEMA, load, refuse_unsafe_text
from scimgate.services.rendering import render_user
from scimgate.services.user_records import UserRecord, record_from_row, users_statement
from scimgate.services.user_writes import Changes


def choose_email(emails: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Pick the one stored email: a primary one wins, else the alphabetically first value.

    Several primaries are tolerated (PingFederate sends the same address twice, both primary):
    the alphabetically first primary wins.
    """
    candidates = [e for e in emails or [] if isinstance(e.get("value"), str) and e["value"]]
    if not candidates:
        return {}
    primaries = [e for e in candidates if e.get("primary") is True]
    return min(primaries or candidates, key=lambda e: (e["value"].casefold(), e["value"]))


def user_values(data: dict[str, Any], *, replace: bool) -> dict[str, Any]:
    """The record fields a validated body sets, by the reference's rules.

    One email is stored (``choose_email``). ``active: true`` also lifts a suspension; ``active:
    false`` deactivates; an omitted ``active`` keeps the current state. An omitted
    ``externalId`` is kept on PUT (the IdP's link id) and cleared on PATCH's full result.
    """
    name = data.get("name") or {}
    email = choose_email(data.get("emails"))
    values: dict[str, Any] = {
        "username": data["userName"],
        "first_name": name.get("givenName") or "",
        "last_name": name.get("familyName") or "",
        "display_name": data.get("displayName") or "",
        "email": email.get("value", ""),
        "email_type": email.get("type"),
        "email_primary": email.get("primary"),
    }
    if "externalId" in data or replace is False:
        values["external_id"] = data.get("externalId")
    active = data.get("active")
    if active is True:
        values["is_active"] = True
        values["is_suspended"] = False
    elif active is False:
        values["is_active"] = False
    return values


def _log_changes(user: UserRecord, changes: Changes) -> None:
    if "active" in changes or "suspended" in changes:
        event = "user.activated" if user.is_active and not user.is_suspended else "user.deactivated"
        scim_logging.lifecycle(event, scim_id=user.scim_id, user_id=user.user_id, userName=user.username)
    other = sorted(k for k in changes if k not in {"active", "suspended"})
    if other:
        scim_logging.lifecycle(
            "user.updated",
            scim_id=user.scim_id,
            user_id=user.user_id,
            userName=user.username,
            fields=",".join(other),
        )


def _username_conflict(username: str) -> Uniqueness | None:
    """The 409 for a username another account holds (None when free: not the username's fault)."""
    if user_writes.account_named(username) is None:
        return None
    return Uniqueness(f"userName '{username}' is already in use by another user.", attribute="userName")


def create_user(body: dict[str, Any], client: str) -> UserRecord:
    """Create a user, or take over an existing account of that username that SCIM did not push.

    An account that signed in with SAML before provisioning started has no SCIM link; the IdP's
    POST links it instead of failing forever with 409. An account that already has a link is a
    duplicate, and a built-in account (local password) is never taken over: both are 409
    ``uniqueness``, a race between two creates decided by the database's unique constraints.
    The usual case, a new username, is one ``INSERT`` that writes nothing when the name is taken;
    only then is the existing account looked up.
    """
    data = load(USER_SCHEMA, body, urns.USER)
    refuse_unsafe_text(data)
    username = data["userName"]
    if "active" not in data:
        data["active"] = True
    values = user_values(data, replace=False)
    scim_id = str(uuid.uuid4())
    now = utcnow()
    with unique_conflicts(lambda: _username_conflict(username)):
        action = "user.created"
        changes = user_writes.changes_between(_EMPTY, values)
        event = audit.event_row(action, "User", scim_id, target_name=username, changes=changes)
        written = user_writes.insert_if_new(values, scim_id, client, now, event)
        if written is None:
            account = user_writes.account_named(username)
            _refuse_takeover(account, username)
            written = user_writes.insert(values, scim_id, client, now, account)
            if account is not None:
                action = "user.adopted"
                changes = user_writes.changes_between(account.record, values)
            audit.record(action, "User", scim_id, target_name=username, changes=changes)
        db.session.commit()
    scim_logging.lifecycle(action, scim_id=scim_id, user_id=written.user_id, userName=username)
    return written


def _refuse_takeover(account: user_writes.Account | None, username: str) -> None:
    """409 for an account SCIM must not link: one already linked, a built-in account, or an
    inactive account that would be Server Admin once active (adopting it would revive it)."""
    if account is not None and account.linked:
        raise Uniqueness(f"userName '{username}' is already in use by another user.", attribute="userName")
    if account is not None and account.is_builtin:
        raise Uniqueness(
            f"userName '{username}' belongs to a built-in account of the application "
            "(local password sign-in); SCIM cannot take it over. Rename one of the two accounts.",
            attribute="userName",
        )
    if account is not None and accounts.is_dormant_server_admin(account.user_id):
        scim_logging.info("user.adopt_refused", userName=username, reason="inactive Server Admin")
        raise Uniqueness(
            f"userName '{username}' belongs to a Server Admin account that the application suspended "
            "or deactivated; SCIM cannot take it over (that would make it active again). An admin "
            "can activate it, or change its role, first."
        )


# What a created user's fields are compared with for the audit trail: nothing was set.
_EMPTY = UserRecord(**dict.fromkeys(UserRecord._fields))  # type: ignore[arg-type]


def _write(action: str, record: UserRecord, data: dict[str, Any], *, replace: bool) -> UserRecord:
    values = user_values(data, replace=replace)
    changes = user_writes.changes_between(record, values)
    name = values.get("username", record.username)
    event = audit.event_row(action, "User", record.scim_id, target_name=name, changes=changes)
    with unique_conflicts(lambda: _username_conflict(data["userName"])):
        written = user_writes.update(record, values, utcnow(), event)
        db.session.commit()
    _log_changes(written, changes)
    return written


def replace_user(scim_id: str, body: dict[str, Any], if_match: str | None) -> UserRecord:
    """PUT (§3.5.1): writable attributes are replaced; read-only ones in the body are ignored.

    An omitted ``active`` keeps the current state (a PUT must not silently disable someone), and
    an omitted ``externalId`` keeps the IdP's link id; other omitted attributes are cleared.
    """
    data = load(USER_SCHEMA, body, urns.USER)
    record = user_writes.read_for_update(scim_id)
    check_if_match(if_match, record.version)
    refuse_unsafe_text(data, lambda: render_user(record, None, ""))
    return _write("user.replaced", record, data, replace=True)


def patch_user(scim_id: str, operations: list[Operation], if_match: str | None) -> UserRecord:
    """PATCH (§3.5.2): apply every operation to the rendered user, validate, then write once."""
    record = user_writes.read_for_update(scim_id)
    check_if_match(if_match, record.version)
    current = render_user(record, None, "")
    patched = PatchEngine(scim_schema.USER).apply(current, operations)
    if "active" not in patched:
        raise InvalidValue("'active' cannot be removed; replace it with false to deactivate the user.")
    data = load(USER_SCHEMA, patched, urns.USER)
    refuse_unsafe_text(data, current)
    return _write("user.patched", record, data, replace=False)


def delete_user(scim_id: str, if_match: str | None) -> None:
    """DELETE (§3.6): the account, its SCIM link and its memberships go in one transaction."""
    record = user_writes.read_for_write(scim_id, with_groups=False)
    check_if_match(if_match, record.version)
    audit.record("user.deleted", "User", scim_id, target_name=record.username)
    user_writes.delete(record)
    db.session.commit()
    scim_logging.lifecycle("user.deleted", scim_id=scim_id, user_id=record.user_id, userName=record.username)


def unique_lookup(expr: Expr | None) -> tuple[str, str] | None:
    """``(key, value)`` when the filter is ``userName eq "..."`` or ``id eq "..."``, else None.

    That is how every IdP looks a user up before creating it, and both keys are unique, so such
    a list is answered by one statement that finds at most one user (with its groups).
    """
    if not isinstance(expr, Compare) or expr.op != "eq" or not isinstance(expr.value, str):
        return None
    path = expr.path
    if path.sub_attr is not None or (path.schema is not None and path.schema.lower() != urns.USER.lower()):
        return None
    key = path.attr.lower()
    return (key, expr.value) if key in user_records.UNIQUE_KEYS else None


def _lookup_page(key: str, value: str, query: ListQuery) -> Page:
    """The page of a unique lookup: the user (when found and the page reaches it) and the total."""
    with_groups = query.projection is None or query.projection.wants("groups")
    found = user_records.find_user(key, value, with_groups=with_groups)
    total = 0 if found is None else 1
    if found is None or query.count == 0 or query.start_index > 1:
        return Page(total, [])
    return Page(total, [found])


def list_users(query: ListQuery) -> Page:
    """A filtered, sorted page of SCIM users: one count and one page statement (Core rows)."""
    column = sort_column(query.sort_by, USER_ATTRIBUTES, urns.USER)  # validates sortBy first
    lookup = unique_lookup(query.filter) if query.cursor is None else None
    if lookup is not None:
        return _lookup_page(*lookup, query)
    statement = users_statement()
    if query.filter is not None:
        statement = statement.where(to_sql(query.filter, USER_ATTRIBUTES, [urns.USER]))
    # Every SCIM link has its user and profile (foreign keys), so without a filter the links
    # alone give the count: one small table instead of a three-table join.
    count = sa.select(sa.func.count()).select_from(ScimUser) if query.filter is None else None
    # Table columns (not ORM attributes) as keys keep an unfiltered, unsorted page (an IdP's
    # full sync) a plain Core statement, without the ORM's per-row result machinery.
    narrow = ScimUser.__table__.c.user_id if query.filter is None else None
    key = User.__table__.c.id
    return paginate(statement, column, key, query, "User", count, from_row=record_from_row, narrow_key=narrow)
