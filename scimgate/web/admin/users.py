"""Users: search, paging, kind (built-in / SAML / SCIM), active or suspended, role; activate,
suspend and role controls, disabled with the policy's reason where ``scimgate.accounts.policies`` refuses."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from scimgate.accounts import admins, policies, users
from scimgate.models import ScimUser, User, UserProfile
from scimgate.web.pages import Page, like_pattern, local_path, page_number, paginate, policy_reason, sentence

KINDS = (("", "All kinds"), ("builtin", "Built-in"), ("saml", "SAML"), ("scim", "SCIM"))


def register(bp: Blueprint) -> None:
    """Add the users page and its actions."""
    bp.add_url_rule("/users", "users", show, methods=["GET"])
    bp.add_url_rule("/users/<int:user_id>/activate", "user_activate", activate, methods=["POST"])
    bp.add_url_rule("/users/<int:user_id>/suspend", "user_suspend", suspend, methods=["POST"])
    bp.add_url_rule("/users/<int:user_id>/role", "user_role", set_role, methods=["POST"])


@dataclass(frozen=True)
class Row:
    """One user with what the page may offer for it."""

    account: users.AccountView
    pushed: bool
    activate_reason: str | None
    suspend_reason: str | None


def search(query: str, kind: str) -> sa.Select:
    """Users whose username, display name or email contains ``query``, of one kind, oldest first."""
    statement = sa.select(User).order_by(User.id)
    if query:
        pattern = like_pattern(query)
        statement = statement.outerjoin(UserProfile, UserProfile.user_id == User.id).where(
            sa.or_(
                User.username.ilike(pattern, escape="\\"),
                User.email.ilike(pattern, escape="\\"),
                UserProfile.display_name.ilike(pattern, escape="\\"),
            )
        )
    pushed = sa.exists().where(ScimUser.user_id == User.id)
    if kind == "builtin":
        statement = statement.where(User.is_builtin.is_(True))
    elif kind == "scim":
        statement = statement.where(pushed)
    elif kind == "saml":
        statement = statement.where(User.is_builtin.is_(False), ~pushed)
    return statement


def rows(page: Page) -> list[Row]:
    """Compute kind, status, role and the policies' answers for one page of users (Suspend is
    also disabled, with the reason, for the only active Server Admin)."""
    state = policies.current_state()
    memberships = users.groups_of([u.id for u in page.items])
    sole_admin = admins.sole_active_admin_id()
    out = []
    for user in page.items:
        pushed = users.is_pushed(user)
        suspend_reason = policy_reason("suspend_user", state, target_pushed=pushed)
        if suspend_reason is None and user.id == sole_admin:
            suspend_reason = sentence(admins.LockoutRefusal(f"suspending {user.username!r}").detail)
        out.append(
            Row(
                account=users.view(user, memberships[user.id]),
                pushed=pushed,
                activate_reason=policy_reason("activate_user", state, target_pushed=pushed),
                suspend_reason=suspend_reason,
            )
        )
    return out


def show() -> tuple[str, int]:
    """The users page."""
    query = request.args.get("q", "").strip()
    kind = request.args.get("kind", "")
    if kind not in dict(KINDS):
        kind = ""
    page = paginate(search(query, kind), page_number())
    state = policies.current_state()
    return (
        render_template(
            "admin/users.html",
            page=page,
            rows=rows(page),
            query=query,
            kind=kind,
            kinds=KINDS,
            role_reason=policy_reason("assign_user_role", state),
            scim_enabled=state.scim_enabled,
            back=request.full_path.rstrip("?"),
        ),
        200,
    )


def _back() -> Response:
    return redirect(local_path(request.form.get("back"), url_for("admin_pages.users")), 303)


def activate(user_id: int) -> Response:
    """Activate (and approve) a user; with SCIM on, only accounts not pushed from the IdP."""
    user = users.get(user_id)
    policies.require("activate_user", target_pushed=users.is_pushed(user))
    users.activate(user)
    flash(f"{user.username} is active.", "success")
    return _back()


def suspend(user_id: int) -> Response:
    """Suspend a user; with SCIM on, only accounts not pushed from the IdP."""
    user = users.get(user_id)
    policies.require("suspend_user", target_pushed=users.is_pushed(user))
    users.suspend(user)
    flash(f"{user.username} is suspended.", "success")
    return _back()


def set_role(user_id: int) -> Response:
    """Assign a role to a user, unless roles come from groups."""
    user = users.get(user_id)
    policies.require("assign_user_role")
    role = users.set_role(user, request.form.get("role"))
    flash(f"{user.username} now has the {role.label} role.", "success")
    return _back()
