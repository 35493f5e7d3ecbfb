"""User resources: create, read, list, replace, patch, delete (RFC 7644 §3.3 to §3.6).

The reference's rules live here: the username is unique and case-sensitive; one email is stored
(primary first, else alphabetically first); ``active`` maps to ``is_active``/``is_suspended``.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from scimgate import audit, scim_logging
from scimgate.extensions import db
from scimgate.models import ScimUser, User, UserProfile, utcnow
from scimgate.payloads import USER_SCHEMA, load
from scimgate.scim import schema as scim_schema
from scimgate.scim import urns
from scimgate.scim.errors import InvalidValue, Uniqueness
from scimgate.scim.filter_sql import to_sql
from scimgate.scim.filters import Compare, Expr
from scimgate.scim.patch import Operation, PatchEngine
from scimgate.services import user_records
from scimgate.services.attribute_maps import USER_ATTRIBUTES
from scimgate.services.common import (
    ListQuery,
    Page,
    check_if_match,
    load_by_scim_id,
    paginate,
    sort_column,
)
from scimgate.services.user_records import (
    UserRecord,
    record_from_row,
    record_of,
    render_user,
    users_statement,
)


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


def _base_user_query() -> sa.Select:
    return sa.select(User).join(ScimUser, ScimUser.user_id == User.id).join(UserProfile)


def get_user(scim_id: str, *, for_update: bool = False) -> User:
    """Load a SCIM user by id (its profile and link joined in); unknown ids are 404."""
    return load_by_scim_id(
        "User", scim_id, _base_user_query(), ScimUser.scim_user_uuid, ScimUser.user_id, for_update=for_update
    )


def _apply_fields(user: User, data: dict[str, Any], *, replace: bool) -> dict[str, tuple[Any, Any]]:
    """Copy validated attributes onto the rows; return {field: (before, after)} of what changed."""
    link = user.scim
    assert link is not None
    changes: dict[str, tuple[Any, Any]] = {}

    def put(obj: Any, attr: str, value: Any, label: str) -> None:
        before = getattr(obj, attr)
        if before != value:
            setattr(obj, attr, value)
            changes[label] = (before, value)

    name = data.get("name") or {}
    email = choose_email(data.get("emails"))
    put(user, "username", data["userName"], "userName")
    put(user, "first_name", name.get("givenName") or "", "name.givenName")
    put(user, "last_name", name.get("familyName") or "", "name.familyName")
    put(user.profile, "display_name", data.get("displayName") or "", "displayName")
    put(user, "email", email.get("value", ""), "emails")
    put(link, "email_type", email.get("type"), "emails.type")
    put(link, "email_primary", email.get("primary"), "emails.primary")
    if "externalId" in data or replace is False:
        put(link, "external_id", data.get("externalId"), "externalId")
    active = data.get("active")
    if active is True:
        put(user, "is_active", True, "active")
        put(user.profile, "is_suspended", False, "suspended")
    elif active is False:
        put(user, "is_active", False, "active")
    return changes


def _log_changes(user: User, changes: dict[str, tuple[Any, Any]]) -> None:
    scim_id = user.scim.scim_user_uuid if user.scim else None
    if "active" in changes or "suspended" in changes:
        event = "user.activated" if user.is_active and not user.profile.is_suspended else "user.deactivated"
        scim_logging.lifecycle(event, scim_id=scim_id, user_id=user.id, userName=user.username)
    other = sorted(k for k in changes if k not in {"active", "suspended"})
    if other:
        scim_logging.lifecycle(
            "user.updated", scim_id=scim_id, user_id=user.id, userName=user.username, fields=",".join(other)
        )


def _commit_or_conflict(username: str) -> None:
    """Commit; a unique-constraint failure on the username (the database decides) is 409."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if db.session.scalar(sa.select(User.id).where(User.username == username)) is None:
            raise  # not the username: a genuine server fault, logged as unexpected
        raise Uniqueness(f"userName '{username}' is already in use by another user.") from None


def create_user(body: dict[str, Any], client: str) -> UserRecord:
    """Create a user, or take over an existing account of that username that SCIM did not push.

    An account that signed in with SAML before provisioning started has no SCIM link; the IdP's
    POST links it instead of failing forever with 409. An account that already has a link is a
    duplicate, and a built-in account (local password) is never taken over: both are 409
    ``uniqueness``, the former decided by the database's unique constraints.
    """
    data = load(USER_SCHEMA, body, urns.USER)
    user = (
        db.session.execute(sa.select(User).where(User.username == data["userName"]))
        .unique()
        .scalar_one_or_none()
    )
    adopted = user is not None
    if user is not None and user.scim is not None:
        raise Uniqueness(f"userName '{data['userName']}' is already in use by another user.")
    if user is not None and user.is_builtin:
        raise Uniqueness(
            f"userName '{data['userName']}' belongs to a built-in account of the application "
            "(local password sign-in); SCIM cannot take it over. Rename one of the two accounts."
        )
    if user is None:
        user = User(username=data["userName"], is_active=True)
        user.profile = UserProfile(display_name="", is_suspended=False)
        db.session.add(user)
    now = utcnow()
    user.scim = ScimUser(
        scim_user_uuid=str(uuid.uuid4()), client=client, created=now, last_modified=now, version=1
    )
    if "active" not in data:
        data["active"] = True
    changes = _apply_fields(user, data, replace=False)
    audit.record(
        "user.adopted" if adopted else "user.created",
        "User",
        user.scim.scim_user_uuid,
        target_name=user.username,
        changes=changes,
    )
    _commit_or_conflict(data["userName"])
    scim_logging.lifecycle(
        "user.adopted" if adopted else "user.created",
        scim_id=user.scim.scim_user_uuid,
        user_id=user.id,
        userName=user.username,
    )
    return record_of(user)


def _with_groups(user: User) -> UserRecord:
    """The record of a user being written, with its groups read in the same transaction (the
    response shows them; reading them after the commit would cost a transaction of its own)."""
    with db.session.no_autoflush:  # the write is flushed by the commit, where 409 is decided
        groups = user_records.groups_for_users([user.id]).get(user.id, [])
    return record_of(user)._replace(groups=tuple(groups))


def _touch(user: User) -> None:
    assert user.scim is not None
    user.scim.version += 1
    user.scim.last_modified = utcnow()


def replace_user(scim_id: str, body: dict[str, Any], if_match: str | None) -> UserRecord:
    """PUT (§3.5.1): writable attributes are replaced; read-only ones in the body are ignored.

    An omitted ``active`` keeps the current state (a PUT must not silently disable someone), and
    an omitted ``externalId`` keeps the IdP's link id; other omitted attributes are cleared.
    """
    data = load(USER_SCHEMA, body, urns.USER)
    user = get_user(scim_id, for_update=True)
    check_if_match(if_match, user.scim.version)
    changes = _apply_fields(user, data, replace=True)
    _touch(user)
    audit.record("user.replaced", "User", scim_id, target_name=user.username, changes=changes)
    written = _with_groups(user)
    _commit_or_conflict(data["userName"])
    _log_changes(user, changes)
    return written


def patch_user(scim_id: str, operations: list[Operation], if_match: str | None) -> UserRecord:
    """PATCH (§3.5.2): apply every operation to the rendered user, validate, then write once."""
    user = get_user(scim_id, for_update=True)
    check_if_match(if_match, user.scim.version)
    current = render_user(record_of(user), None, "")
    patched = PatchEngine(scim_schema.USER).apply(current, operations)
    if "active" not in patched:
        raise InvalidValue("'active' cannot be removed; replace it with false to deactivate the user.")
    data = load(USER_SCHEMA, patched, urns.USER)
    changes = _apply_fields(user, data, replace=False)
    _touch(user)
    audit.record("user.patched", "User", scim_id, target_name=user.username, changes=changes)
    written = _with_groups(user)
    _commit_or_conflict(data["userName"])
    _log_changes(user, changes)
    return written


def delete_user(scim_id: str, if_match: str | None) -> None:
    """DELETE (§3.6): the account, its SCIM link and its memberships go in one transaction."""
    user = get_user(scim_id, for_update=True)
    check_if_match(if_match, user.scim.version)
    user_id, username = user.id, user.username
    audit.record("user.deleted", "User", scim_id, target_name=username)
    # One statement: the database's ON DELETE CASCADE removes the profile, link and memberships.
    db.session.execute(sa.delete(User).where(User.id == user_id))
    db.session.expunge(user)
    db.session.commit()
    scim_logging.lifecycle("user.deleted", scim_id=scim_id, user_id=user_id, userName=username)


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
