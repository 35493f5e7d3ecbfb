"""One user's page for Server Admins (``/admin/users/<id>``): kind, status, SCIM id, externalId,
groups, role and where it comes from, and the user's provisioning history (the audit events about
the account, newest first, each linked to the request that made it).

The history finds an account's events under both ids the trail records it by: the SCIM id (the
IdP's changes) and the account's own id (an admin's or a command's changes), and none from
before the account existed (SQLite reuses the id of a deleted newest row: ``audit.about``).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from scimgate.accounts import settings, users
from scimgate.accounts.roles import DEFAULT_ROLE
from scimgate.logs import audit
from scimgate.models import User
from scimgate.web.pages import page_number, paginate

HISTORY_PER_PAGE = 25
USER_TARGET = "User"  # the audit trail's target_type for an account


def register(bp: Blueprint) -> None:
    """Add the user page."""
    bp.add_url_rule("/users/<int:user_id>", "user", show, methods=["GET"])


def user_history_ids(user: User) -> list[str]:
    """The target ids the audit trail records this account under."""
    return [str(user.id), *([user.scim.scim_user_uuid] if user.scim else [])]


def role_source(account: users.AccountView, *, groups_assign_roles: bool) -> str:
    """Where the effective role comes from, in words (the rule of ``users.effective_role``)."""
    if account.kind is users.AccountKind.BUILTIN:
        return "assigned directly (a built-in account keeps its own role, whatever its groups say)"
    if not groups_assign_roles:
        return "assigned directly"
    givers = [g.external_unique_name for g in account.groups if g.role == account.role.value]
    if givers:
        quoted = ", ".join(f"“{name}”" for name in givers)
        return f"from group {quoted}" if len(givers) == 1 else f"from groups {quoted}"
    return f"the default role ({DEFAULT_ROLE.label}): none of the user's groups has a role"


def show(user_id: int) -> tuple[str, int]:
    """The user page (404 page for an id that names nobody)."""
    user = users.get(user_id)
    account = users.view(user)
    current = settings.current()
    history = paginate(
        audit.about([USER_TARGET], user_history_ids(user), created=user.date_joined),
        page_number(),
        HISTORY_PER_PAGE,
    )
    return (
        render_template(
            "admin/user.html",
            account=account,
            user=user,
            role_source=role_source(account, groups_assign_roles=current.groups_assign_roles),
            groups_assign_roles=current.groups_assign_roles,
            history=history,
        ),
        200,
    )
