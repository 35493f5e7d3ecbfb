"""Groups as the application sees them: defined in the application, or pushed by SCIM.

Both kinds share one table (``directory_group``): a SCIM group has a link row, an
application-defined group has none. Admins manage application-defined groups by hand; SCIM groups
belong to the IdP (callers ask ``scimgate.accounts.policies`` which actions remain).
"""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from scimgate.accounts import admins
from scimgate.accounts.errors import AccountError, NotFoundError
from scimgate.accounts.roles import Role, parse_role
from scimgate.extensions import db
from scimgate.logs import audit
from scimgate.logs import scim_logs as scim_logging
from scimgate.models import GROUP_NAME_MAX, ROW_ID_MAX, DirectoryGroup, GroupMembership, User
from scimgate.scim.safe_text import unsafe_character_problem


class GroupKind(enum.StrEnum):
    """Who manages a group."""

    APPLICATION = "application"
    SCIM = "scim"


def kind_of(group: DirectoryGroup) -> GroupKind:
    """Return ``scim`` for a group an IdP pushed, else ``application``."""
    return GroupKind.SCIM if group.scim is not None else GroupKind.APPLICATION


def get(group_id: int) -> DirectoryGroup:
    """Load a group by id or raise NotFoundError."""
    group = db.session.get(DirectoryGroup, group_id) if 0 < group_id <= ROW_ID_MAX else None
    if group is None:
        raise NotFoundError(f"no group with id {group_id}")
    return group


def all_groups() -> list[DirectoryGroup]:
    """Return every group, by name."""
    statement = sa.select(DirectoryGroup).order_by(DirectoryGroup.external_unique_name)
    return list(db.session.execute(statement).unique().scalars())


def member_ids(group_ids: list[int]) -> dict[int, list[int]]:
    """Return the member user ids of many groups in one statement."""
    out: dict[int, list[int]] = {gid: [] for gid in group_ids}
    if group_ids:
        rows = db.session.execute(
            sa.select(GroupMembership.group_id, GroupMembership.user_id)
            .where(GroupMembership.group_id.in_(group_ids))
            .order_by(GroupMembership.user_id)
        )
        for group_id, user_id in rows:
            out[group_id].append(user_id)
    return out


def _check_name(name: Any, current: str | None = None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise AccountError("invalid_value", "name must be a non-empty string")
    if len(name) > GROUP_NAME_MAX:
        raise AccountError("invalid_value", f"name must be at most {GROUP_NAME_MAX} characters")
    problem = unsafe_character_problem(name, "name") if name != current else None
    if problem:  # a name stored before this rule may be kept, not given anew
        raise AccountError("invalid_value", problem)
    return name


def _check_members(members: Any) -> list[int]:
    if not isinstance(members, list) or not all(
        isinstance(m, int) and not isinstance(m, bool) for m in members
    ):
        raise AccountError("invalid_value", "members must be a list of user ids")
    wanted = sorted(set(members))
    found = set(db.session.scalars(sa.select(User.id).where(User.id.in_(wanted)))) if wanted else set()
    unknown = [m for m in wanted if m not in found]
    if unknown:
        raise AccountError("invalid_value", f"unknown user id(s) in members: {unknown}")
    return wanted


def _audit(action: str, group: DirectoryGroup, changes: dict[str, Any], name: str | None = None) -> None:
    """Record an admin's change of ``group`` in the transaction that makes it (``audit.actor``
    names who); target: the group's numeric id and its name."""
    audit.record(
        action, "Group", str(group.id), target_name=name or group.external_unique_name, changes=changes
    )


def _usernames(user_ids: set[int]) -> list[str]:
    """Usernames of ``user_ids``, sorted: what the audit trail shows of a membership change."""
    if not user_ids:
        return []
    return sorted(db.session.scalars(sa.select(User.username).where(User.id.in_(sorted(user_ids)))))


def _set_members(group: DirectoryGroup, wanted: list[int]) -> dict[str, list[str]]:
    """Make ``wanted`` the members; return the usernames added and removed (for the audit)."""
    current = set(member_ids([group.id])[group.id])
    target = set(wanted)
    changes = {"members_added": _usernames(target - current), "members_removed": _usernames(current - target)}
    if current - target:
        db.session.execute(
            sa.delete(GroupMembership).where(
                GroupMembership.group_id == group.id, GroupMembership.user_id.in_(current - target)
            )
        )
    for user_id in sorted(target - current):
        db.session.add(GroupMembership(group_id=group.id, user_id=user_id))
    return {key: names for key, names in changes.items() if names}


def _commit(name: str) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountError("conflict", f"a group named {name!r} already exists", 409) from None


def create_app_group(name: Any, members: Any = None, role: Any = None) -> DirectoryGroup:
    """Create an application-defined group, optionally with members and a role."""
    name = _check_name(name)
    wanted = _check_members(members if members is not None else [])
    parsed = _parse_optional_role(role)
    group = DirectoryGroup(role=parsed.value if parsed else None)
    group.set_name(name)
    db.session.add(group)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AccountError("conflict", f"a group named {name!r} already exists", 409) from None
    members = _set_members(group, wanted)
    _audit("group.created", group, {"name": name, "role": group.role, **members})
    _commit(name)
    scim_logging.lifecycle("app_group.created", group_id=group.id, name=name)
    return group


def update_app_group(group: DirectoryGroup, *, name: Any = None, members: Any = None) -> None:
    """Rename an application-defined group and/or replace its members.

    Refused when the new members leave no active Server Admin (the group gave the last one the
    role).
    """
    admin_before = admins.had_an_admin()
    wanted = _check_members(members) if members is not None else None
    new_name = (
        _check_name(name, group.external_unique_name) if name is not None else group.external_unique_name
    )
    old_name = group.external_unique_name
    changes: dict[str, Any] = {"name": (old_name, new_name)} if new_name != old_name else {}
    try:
        if name is not None:
            group.set_name(new_name)
        if wanted is not None:
            changes.update(_set_members(group, wanted))
        _audit("group.updated", group, changes, name=new_name)
        admins.commit_keeping_an_admin(f"changing the members of the group {new_name!r}", admin_before)
    except IntegrityError:
        db.session.rollback()
        raise AccountError("conflict", f"a group named {new_name!r} already exists", 409) from None
    scim_logging.lifecycle("app_group.updated", group_id=group.id, name=group.external_unique_name)


def delete_group(group: DirectoryGroup) -> None:
    """Delete a group with its memberships (callers allow this only for application groups);
    refused when it gave the last active Server Admin the role."""
    group_id, name = group.id, group.external_unique_name
    admin_before = admins.had_an_admin()
    members = _usernames(set(member_ids([group_id])[group_id]))
    _audit("group.deleted", group, {"role": group.role, "members_removed": members})
    db.session.delete(group)
    admins.commit_keeping_an_admin(f"deleting the group {name!r}", admin_before)
    scim_logging.lifecycle("app_group.deleted", group_id=group_id, name=name)


def _parse_optional_role(role: Any) -> Role | None:
    if role is None:
        return None
    try:
        return parse_role(role)
    except ValueError as exc:
        raise AccountError("invalid_role", str(exc)) from None


def set_group_role(group: DirectoryGroup, role: Any) -> Role | None:
    """Map a role to a group (``None`` removes the mapping); refused when that takes the Server
    Admin role away from the last active Server Admin."""
    parsed = _parse_optional_role(role)
    admin_before = admins.had_an_admin()
    before = group.role
    group.role = parsed.value if parsed else None
    name = group.external_unique_name
    _audit("group.role_changed", group, {"role": (before, group.role)} if before != group.role else {})
    action = f"giving the group {name!r} the {parsed.label} role" if parsed else f"removing {name!r}'s role"
    admins.commit_keeping_an_admin(action, admin_before)
    scim_logging.lifecycle("group.role_set", group_id=group.id, role=group.role)
    return parsed
