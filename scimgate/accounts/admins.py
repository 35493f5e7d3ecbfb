"""Who can reach Admin Settings, and the one rule that keeps somebody able to.

An account reaches Admin Settings when it is **active** and its **effective role** is Server
Admin (``users.status_of`` and ``users.effective_role`` say the same per user; this module asks
the database the same question for every user at once, in one statement that stops at the first
row, so the check stays cheap on a directory of any size).

The lock-out rule (issue #16): a change made by a person — on the pages, through ``/api/v1`` or
with the CLI — is refused when an active Server Admin existed before it and none would exist
after it. Every such change goes through ``commit_keeping_an_admin`` (changes to rows: suspend,
role, group members, group role, group deletion, provider cleanup) or
``require_an_admin_remains`` (changes to settings, which are evaluated before they are stored).

Changes the IdP makes over SCIM are **not** refused: the IdP is the source of truth for the
accounts it pushes, and refusing its deactivation of a departed admin would keep that person's
access. Built-in accounts are the guaranteed way back: the IdP cannot touch them, their role is
their own whatever "Use Groups to Assign Roles" says, and ``scimgate admin create`` /
``scimgate admin reactivate`` work from the server's shell whatever the settings are.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from scimgate.accounts import settings
from scimgate.accounts.errors import AccountError
from scimgate.accounts.roles import Role
from scimgate.extensions import db
from scimgate.logs import scim_logs as scim_logging
from scimgate.models import DirectoryGroup, GroupMembership, ScimGroup, User, UserProfile

LOCKOUT_CODE = "would_lock_out_admins"
RECOVERY = "`scimgate admin create NAME` or `scimgate admin reactivate NAME` on the server"


class LockoutRefusal(AccountError):
    """A change refused because afterwards no active account could reach Admin Settings (403)."""

    def __init__(self, action: str) -> None:
        super().__init__(
            LOCKOUT_CODE,
            f"{action} would leave no active Server Admin, so nobody could reach Admin Settings; "
            "make another account an active Server Admin first (or create a built-in one with "
            f"{RECOVERY})",
            403,
        )
        self.action = action


def _in_group(*conditions: sa.ColumnElement[bool]) -> sa.Exists:
    """Some membership of the user in a group matching ``conditions``."""
    return (
        sa.exists()
        .where(GroupMembership.user_id == User.id)
        .where(DirectoryGroup.id == GroupMembership.group_id)
        .where(*conditions)
    )


_APP_GROUP = ~sa.exists().where(ScimGroup.group_id == DirectoryGroup.id)
_ADMIN_GROUP = DirectoryGroup.role == Role.SERVER_ADMIN.value
_ADMIN_ROLE = User.role == Role.SERVER_ADMIN.value


def active_server_admins_statement(
    effective: settings.Settings, *, builtin_only: bool = False, through: str = "effective"
) -> sa.Select:
    """Users who are active and Server Admin under ``effective`` settings, oldest first.

    ``through`` says which role counts: ``effective`` (what applies), ``group`` (a group's role
    alone) or ``app_group`` (the role of an application-defined group, the reference's prerequisite
    4 for SCIM). Mirrors ``users.status_of`` and ``users.effective_role``.
    """
    active = sa.and_(
        User.is_active.is_(True),
        User.approval_pending.is_not(True),
        ~sa.exists().where(UserProfile.user_id == User.id, UserProfile.is_suspended.is_(True)),
    )
    if effective.custom_groups_manage_activation:
        active = sa.and_(active, sa.or_(User.is_builtin.is_(True), _in_group(_APP_GROUP)))
    if through == "group":
        admin = _in_group(_ADMIN_GROUP)
    elif through == "app_group":
        admin = _in_group(_ADMIN_GROUP, _APP_GROUP)
    elif effective.groups_assign_roles:
        admin = sa.case((User.is_builtin.is_(True), _ADMIN_ROLE), else_=_in_group(_ADMIN_GROUP))
    else:
        admin = _ADMIN_ROLE
    statement = sa.select(User).where(active, admin).order_by(User.id)
    if builtin_only:
        statement = statement.where(User.is_builtin.is_(True))
    return statement


def active_server_admins(*, builtin_only: bool = False, through: str = "effective") -> list[User]:
    """The active Server Admins under the current settings."""
    statement = active_server_admins_statement(settings.current(), builtin_only=builtin_only, through=through)
    return list(db.session.execute(statement).unique().scalars())


def an_admin_exists(effective: settings.Settings | None = None) -> bool:
    """True when some active account is Server Admin (under ``effective``, default: current)."""
    statement = active_server_admins_statement(effective or settings.current()).with_only_columns(User.id)
    return db.session.execute(statement.limit(1)).first() is not None


def sole_active_admin_id() -> int | None:
    """The id of the only active Server Admin, or None when there are none or several (the
    Users page disables that account's Suspend button, with the reason)."""
    statement = active_server_admins_statement(settings.current()).with_only_columns(User.id).limit(2)
    ids = list(db.session.scalars(statement))
    return ids[0] if len(ids) == 1 else None


def settings_after(
    values: dict[str, bool] | None = None, *, scim_enabled: bool | None = None
) -> settings.Settings:
    """The effective settings once ``values`` (API names) are stored and SCIM is on/off as given."""
    stored = {name: settings.stored(name) for name in settings.API_NAMES} | (values or {})
    sync = settings.scim_sync_enabled() if scim_enabled is None else scim_enabled
    return dataclasses.replace(
        settings.current(),
        moderation=stored["moderation"] and not sync,
        custom_groups_manage_activation=stored["custom_groups_manage_activation"] and not sync,
        groups_assign_roles=stored["groups_assign_roles"],
    )


def _refuse(action: str) -> LockoutRefusal:
    scim_logging.info("admin.lockout_refused", action=action)
    return LockoutRefusal(action)


def require_an_admin_remains(action: str, after: settings.Settings) -> None:
    """Refuse a settings change when it would take the last active Server Admin's access away."""
    if had_an_admin() and not an_admin_exists(after):
        raise _refuse(action)


def require_a_builtin_admin_without_saml(action: str) -> None:
    """Refuse turning SAML off when every active Server Admin signs in through SAML.

    Without SAML only built-in accounts can sign in (with their password), so an admin who is a
    SAML or SCIM account would be locked out of Admin Settings. One built-in Server Admin is enough.
    """
    builtin = active_server_admins_statement(settings.current(), builtin_only=True).with_only_columns(User.id)
    if had_an_admin() and db.session.execute(builtin.limit(1)).first() is None:
        raise _refuse(action)


# One PostgreSQL advisory lock for every change that could take away the last admin.
LOCKOUT_LOCK_KEY = 0x5C1_0AD1


def had_an_admin() -> bool:
    """Whether an active Server Admin exists now: call before making a change to rows.

    It also serializes such changes until their commit: two admins suspending each other at the
    same moment would otherwise each see the other still active and both succeed. PostgreSQL
    takes a transaction-scoped advisory lock here; SQLite already runs every write transaction
    alone (``BEGIN IMMEDIATE``, see ``scimgate.db.transactions``).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCKOUT_LOCK_KEY)))
    return an_admin_exists()


def commit_keeping_an_admin(action: str, admin_before: bool) -> None:
    """Commit the session's pending change, unless it took away the last active Server Admin.

    ``admin_before`` is ``had_an_admin()`` taken before the change was made. The change is flushed
    and checked inside its own transaction, so whatever it touched (a user, a membership, a
    group's role, a whole provider cleanup) is judged by its real effect; a refusal rolls it back.
    """
    db.session.flush()
    if admin_before and not an_admin_exists():
        db.session.rollback()
        raise _refuse(action)
    db.session.commit()
