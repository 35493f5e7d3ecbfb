"""Accounts of the host application: kinds, effective roles, state changes and creation.

Three kinds of account exist (the reference's "Overview" and two-app discussion):

- ``builtin``: created with ``scimgate admin create``, signs in with a local password at ``/login``;
  SCIM never adopts it (its username answers 409 to an IdP).
- ``scim``: pushed by an IdP (it has a SCIM link); the IdP owns its profile and its active state.
- ``saml``: created on first SAML sign-in ("assigned to the SAML app but not to the SCIM app"), or
  left without a link by a provider cleanup; the application manages it by hand.

Nothing here checks *whether* an action is allowed: callers ask ``scimgate.accounts.policies`` first.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from scimgate.accounts import admins, lookalikes, settings
from scimgate.accounts.errors import AccountError, NotFoundError
from scimgate.accounts.roles import DEFAULT_ROLE, Role, highest, parse_role
from scimgate.conf import credentials
from scimgate.conf.credentials import PASSWORD_RULES, password_problems
from scimgate.extensions import db
from scimgate.logs import audit
from scimgate.logs import scim_logs as scim_logging
from scimgate.models import (
    DISPLAY_NAME_MAX,
    EMAIL_MAX,
    ROW_ID_MAX,
    USERNAME_MAX,
    DirectoryGroup,
    GroupMembership,
    User,
    UserProfile,
)
from scimgate.scim.safe_text import unsafe_character_problem


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when the username is unknown, so a wrong username costs as long
    as a wrong password (made on first use with the app's parameters: hashing at import would
    slow every start-up)."""
    return hasher.hash("scimgate-no-such-user")


class AccountKind(enum.StrEnum):
    """How an account came to exist and who manages it."""

    BUILTIN = "builtin"
    SAML = "saml"
    SCIM = "scim"


class Status(enum.StrEnum):
    """Whether an account may sign in, and if not, why (the refusal page names it)."""

    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    SUSPENDED = "suspended"
    PENDING = "pending_approval"


def kind_of(user: User) -> AccountKind:
    """Return the account kind (see the module docstring)."""
    if user.is_builtin:
        return AccountKind.BUILTIN
    return AccountKind.SCIM if user.scim is not None else AccountKind.SAML


def is_pushed(user: User) -> bool:
    """True when an IdP pushed the account (the reference's "accounts ... pushed from the IdP")."""
    return user.scim is not None


def groups_of(user_ids: list[int]) -> dict[int, list[DirectoryGroup]]:
    """Return every group (application-defined or SCIM) of many users in one statement."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        sa.select(GroupMembership.user_id, DirectoryGroup)
        .join(DirectoryGroup, DirectoryGroup.id == GroupMembership.group_id)
        .where(GroupMembership.user_id.in_(user_ids))
        .order_by(DirectoryGroup.external_unique_name)
    ).unique()
    out: dict[int, list[DirectoryGroup]] = {uid: [] for uid in user_ids}
    for user_id, group in rows:
        out[user_id].append(group)
    return out


def effective_role(user: User, groups: list[DirectoryGroup], *, groups_assign_roles: bool) -> Role:
    """Return the role the application applies.

    With "Use Groups to Assign Roles" on, the role comes from the user's groups and the highest
    one wins (a user in no group with a role gets the default role, Viewer); otherwise it is the
    role assigned to the user. A built-in account always has the role assigned to it: it is the
    way back into Admin Settings whatever the settings and the IdP's groups say.
    """
    if groups_assign_roles and not user.is_builtin:
        return highest([Role(g.role) for g in groups if g.role]) or DEFAULT_ROLE
    return Role(user.role)


def status_of(user: User, groups: list[DirectoryGroup], *, custom_groups_activation: bool) -> Status:
    """Return the sign-in status; pending approval is reported before the other states.

    With "Use Custom Groups to manage user suspension and activation" on, an account that is not
    built-in and belongs to no application-defined group counts as suspended: group membership,
    not a manual switch, then decides who is active.
    """
    if user.approval_pending:
        return Status.PENDING
    if not user.is_active:
        return Status.DEACTIVATED
    if user.profile is not None and user.profile.is_suspended:
        return Status.SUSPENDED
    if custom_groups_activation and not user.is_builtin and not any(g.scim is None for g in groups):
        return Status.SUSPENDED
    return Status.ACTIVE


@dataclass(frozen=True)
class AccountView:
    """A user with everything the API and the sign-in need, computed once."""

    user: User
    kind: AccountKind
    role: Role
    status: Status
    groups: list[DirectoryGroup]


def view(user: User, groups: list[DirectoryGroup] | None = None) -> AccountView:
    """Compute kind, effective role and status under the current settings."""
    current = settings.current()
    if groups is None:
        groups = groups_of([user.id])[user.id]
    return AccountView(
        user=user,
        kind=kind_of(user),
        role=effective_role(user, groups, groups_assign_roles=current.groups_assign_roles),
        status=status_of(user, groups, custom_groups_activation=current.custom_groups_manage_activation),
        groups=groups,
    )


def get(user_id: int) -> User:
    """Load a user by its numeric id or raise NotFoundError."""
    user = db.session.get(User, user_id) if 0 < user_id <= ROW_ID_MAX else None
    if user is None:
        raise NotFoundError(f"no user with id {user_id}")
    return user


def find_by_username(username: str) -> User | None:
    """Return the user with exactly this username (case-sensitive, as the reference says)."""
    return db.session.execute(sa.select(User).where(User.username == username)).unique().scalar_one_or_none()


def all_users() -> list[User]:
    """Return every user, oldest first."""
    return list(db.session.execute(sa.select(User).order_by(User.id)).unique().scalars())


def _commit(conflict_detail: str) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountError("conflict", conflict_detail, 409) from None


def username_problem(username: object) -> str | None:
    """Say why ``username`` cannot be an account's username, or None when it can.

    Control, line-break and bidi characters are named first (``scimgate.scim.safe_text``): a
    trailing newline is that, not just a space.
    """
    problem = unsafe_character_problem(username, "the username") if isinstance(username, str) else None
    if problem:
        return problem
    if not isinstance(username, str) or not username or username != username.strip():
        return "the username must be non-empty, without leading or trailing spaces"
    if len(username) > USERNAME_MAX:
        return f"the username must be at most {USERNAME_MAX} characters"
    return None


def _check_username(username: str) -> None:
    problem = username_problem(username)
    if problem:
        raise AccountError("invalid_username", problem)


def _check_unsafe(value: str, what: str, current: str | None) -> None:
    """Refuse a new value with control characters (``scimgate.scim.safe_text``); the stored
    value itself is kept as it is, so an unchanged form can still be saved."""
    problem = unsafe_character_problem(value, what) if value != current else None
    if problem:
        raise AccountError("invalid_value", problem)


def create_builtin_admin(username: str, password: str) -> User:
    """Create a built-in account with the Server Admin role and an argon2-hashed password."""
    _check_username(username)
    problems = password_problems(password)
    if problems:
        raise AccountError(
            "weak_password",
            f"password refused: {'; '.join(problems)}. It must be {PASSWORD_RULES}",
        )
    existing = find_by_username(username)
    if existing is not None:
        hint = (
            "; to make it an active Server Admin again run `scimgate admin reactivate NAME`"
            if existing.is_builtin
            else ""
        )
        raise AccountError("conflict", f"an account named {username!r} already exists{hint}", 409)
    user = User(
        username=username,
        is_active=True,
        is_builtin=True,
        password_hash=credentials.hash_password(password),
        role=Role.SERVER_ADMIN.value,
    )
    user.profile = UserProfile(display_name=username, is_suspended=False)
    db.session.add(user)
    try:
        db.session.flush()  # the id, for the audit event in the same transaction
    except IntegrityError:
        db.session.rollback()
        raise AccountError("conflict", f"an account named {username!r} already exists", 409) from None
    _audit("admin.created", user, {"kind": AccountKind.BUILTIN.value, "role": Role.SERVER_ADMIN.value})
    _commit(f"an account named {username!r} already exists")
    scim_logging.lifecycle("account.builtin_created", user_id=user.id, userName=username)
    return user


def check_password(username: str, password: str) -> User | None:
    """Return the built-in account these credentials open, else None (same cost either way)."""
    user = find_by_username(username)
    stored = user.password_hash if user is not None and user.is_builtin else None
    try:
        hasher = credentials.password_hasher()
        hasher.verify(stored or _dummy_hash(hasher), password)
    except (VerificationError, InvalidHashError):
        return None
    return user if stored else None


def create_saml_user(username: str, *, pending: bool) -> User:
    """Create the account of an unknown user on first SAML sign-in (a "SAML-created" account).

    Refused (409 ``lookalike``) when an existing username differs only by case, width or
    invisible characters (``scimgate.accounts.lookalikes``).
    """
    _check_username(username)
    lookalike = lookalikes.existing_lookalike(username)
    if lookalike is not None:
        raise AccountError(
            "lookalike", f"the username {username!r} looks like the existing account {lookalike!r}", 409
        )
    user = User(username=username, is_active=True, approval_pending=pending, role=DEFAULT_ROLE.value)
    user.profile = UserProfile(display_name=username, is_suspended=False)
    db.session.add(user)
    _commit(f"an account named {username!r} already exists")
    scim_logging.lifecycle("account.saml_created", user_id=user.id, userName=username, pending=pending)
    return user


def _audit(action: str, user: User, changes: dict[str, Any]) -> None:
    """Record an admin's change of ``user`` in the transaction that makes it (``audit.actor``
    names who); target: the account's numeric id and its username."""
    audit.record(action, "User", str(user.id), target_name=user.username, changes=changes)


def _state(user: User) -> dict[str, Any]:
    """The fields an activation, suspension or reactivation changes, before or after it."""
    return {
        "is_active": user.is_active,
        "approval_pending": bool(user.approval_pending),
        "is_suspended": bool(user.profile.is_suspended) if user.profile else False,
        "role": user.role,
    }


def _state_changes(before: dict[str, Any], user: User) -> dict[str, tuple[Any, Any]]:
    after = _state(user)
    return {key: (before[key], after[key]) for key in before if before[key] != after[key]}


def activate(user: User) -> None:
    """Activate (and approve) an account: active, not suspended, no longer pending."""
    before = _state(user)
    user.is_active = True
    user.approval_pending = False
    user.profile.is_suspended = False
    action = "user.approved" if before["approval_pending"] else "user.activated"
    _audit(action, user, _state_changes(before, user))
    db.session.commit()
    scim_logging.lifecycle("account.activated", user_id=user.id, userName=user.username)


def suspend(user: User) -> None:
    """Suspend an account: it can no longer sign in, and its sessions stop working.

    Refused (``admins.LockoutRefusal``) when it is the last active Server Admin.
    """
    admin_before = admins.had_an_admin()
    before = _state(user)
    user.profile.is_suspended = True
    _audit("user.suspended", user, _state_changes(before, user))
    admins.commit_keeping_an_admin(f"suspending {user.username!r}", admin_before)
    scim_logging.lifecycle("account.suspended", user_id=user.id, userName=user.username)


def update_profile(user: User, *, display_name: str | None, email: str | None) -> None:
    """Change the display name and/or the email (callers have consulted the policies)."""
    before = {"display_name": user.profile.display_name, "email": user.email}
    if display_name is not None:
        if not isinstance(display_name, str) or len(display_name) > DISPLAY_NAME_MAX:
            raise AccountError(
                "invalid_value", f"display_name must be a string of at most {DISPLAY_NAME_MAX}"
            )
        _check_unsafe(display_name, "display_name", user.profile.display_name)
        user.profile.display_name = display_name
    if email is not None:
        if not isinstance(email, str) or len(email) > EMAIL_MAX or (email and "@" not in email):
            raise AccountError("invalid_value", f"email must be an address of at most {EMAIL_MAX} characters")
        _check_unsafe(email, "email", user.email)
        user.email = email
    after = {"display_name": user.profile.display_name, "email": user.email}
    changes = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    _audit("user.profile_changed", user, changes)
    db.session.commit()
    scim_logging.lifecycle("account.profile_changed", user_id=user.id, userName=user.username)


def set_role(user: User, role: object) -> Role:
    """Assign a role to the user directly; refused when it demotes the last active Server Admin."""
    try:
        parsed = parse_role(role)
    except ValueError as exc:
        raise AccountError("invalid_role", str(exc)) from None
    admin_before = admins.had_an_admin()
    before = user.role
    user.role = parsed.value
    _audit("user.role_changed", user, {"role": (before, user.role)} if before != user.role else {})
    admins.commit_keeping_an_admin(f"giving {user.username!r} the {parsed.label} role", admin_before)
    scim_logging.lifecycle("account.role_set", user_id=user.id, userName=user.username, role=parsed.value)
    return parsed


def is_dormant_server_admin(user_id: int) -> bool:
    """True for an account that cannot sign in now (suspended, deactivated, waiting for approval)
    but would be Server Admin once active: SCIM must not adopt it, since the IdP's
    ``active: true`` would then give back the role the application took away (issue #16)."""
    account = view(get(user_id))
    return account.status is not Status.ACTIVE and account.role is Role.SERVER_ADMIN


def active_server_admins(*, builtin_only: bool = False, through: str = "effective") -> list[User]:
    """Return the active users who are Server Admin (see ``admins.active_server_admins``)."""
    return admins.active_server_admins(builtin_only=builtin_only, through=through)


def server_admins_through_groups() -> list[User]:
    """Active users who would be Server Admin if roles came from groups only."""
    return active_server_admins(through="group")


def reactivate_builtin(username: str) -> User:
    """Make a built-in account an active Server Admin again (the shell's way back in).

    Clears suspension, deactivation and pending approval, and gives back the Server Admin role;
    the password is kept. Only built-in accounts: the IdP or the application manages the others.
    """
    user = find_by_username(username)
    if user is None:
        raise NotFoundError(f"no account is named {username!r} (usernames are case-sensitive)")
    if not user.is_builtin:
        raise AccountError(
            "not_builtin",
            f"{username!r} is a {kind_of(user).value} account, not a built-in one; create a built-in "
            "Server Admin with `scimgate admin create NAME` instead",
        )
    before = _state(user)
    user.is_active = True
    user.approval_pending = False
    if user.profile is None:
        user.profile = UserProfile(display_name=username, is_suspended=False)
    user.profile.is_suspended = False
    user.role = Role.SERVER_ADMIN.value
    _audit("admin.reactivated", user, _state_changes(before, user))
    db.session.commit()
    scim_logging.lifecycle("account.builtin_reactivated", user_id=user.id, userName=username)
    return user
