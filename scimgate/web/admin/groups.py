"""Groups: application-defined groups are created, renamed, given members and deleted here; SCIM
groups are shown read-only (the IdP owns their name, members and existence) but, like every
group, can be given a role. Each control asks ``scimgate.accounts.policies``."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from scimgate.accounts import groups as app_groups
from scimgate.accounts import policies, users
from scimgate.accounts.errors import AccountError
from scimgate.extensions import db
from scimgate.logs import audit
from scimgate.models import DirectoryGroup, GroupMembership, User
from scimgate.web.pages import like_pattern, page_number, paginate, policy_reason

MEMBERS_SHOWN = 200
HISTORY_PER_PAGE = 25
GROUP_TARGET = "Group"  # the audit trail's target_type for a group


def register(bp: Blueprint) -> None:
    """Add the group pages and their actions."""
    bp.add_url_rule("/groups", "groups", show, methods=["GET"])
    bp.add_url_rule("/groups", "group_create", create, methods=["POST"])
    bp.add_url_rule("/groups/<int:group_id>", "group", detail, methods=["GET"])
    bp.add_url_rule("/groups/<int:group_id>/rename", "group_rename", rename, methods=["POST"])
    bp.add_url_rule("/groups/<int:group_id>/members", "group_add_member", add_member, methods=["POST"])
    bp.add_url_rule(
        "/groups/<int:group_id>/members/<int:user_id>/remove",
        "group_remove_member",
        remove_member,
        methods=["POST"],
    )
    bp.add_url_rule("/groups/<int:group_id>/role", "group_role", set_role, methods=["POST"])
    bp.add_url_rule("/groups/<int:group_id>/delete", "group_delete", delete, methods=["POST"])


def _is_scim(group: DirectoryGroup) -> bool:
    return app_groups.kind_of(group) is app_groups.GroupKind.SCIM


def member_counts(group_ids: list[int]) -> dict[int, int]:
    """Members per group, in one statement (no member rows are loaded)."""
    counts = dict.fromkeys(group_ids, 0)
    if group_ids:
        statement = (
            sa.select(GroupMembership.group_id, sa.func.count())
            .where(GroupMembership.group_id.in_(group_ids))
            .group_by(GroupMembership.group_id)
        )
        counts.update(dict(db.session.execute(statement).all()))
    return counts


def search(query: str) -> sa.Select:
    """Groups whose name contains ``query`` (case-insensitive), by name."""
    statement = sa.select(DirectoryGroup).order_by(DirectoryGroup.external_unique_name, DirectoryGroup.id)
    if query:
        statement = statement.where(
            DirectoryGroup.external_unique_name.ilike(like_pattern(query), escape="\\")
        )
    return statement


def history(group: DirectoryGroup) -> sa.Select:
    """The audit events about one group, newest first, under both ids the trail records it by:
    its SCIM id (the IdP's changes) and its own id (an admin's or a command's); none from before
    the group existed (SQLite reuses the id of a deleted newest row)."""
    ids = [str(group.id), *([group.scim.scim_group_uuid] if group.scim else [])]
    return audit.about([GROUP_TARGET], ids, created=group.created)


def show() -> tuple[str, int]:
    """All groups (search, paging), with the create form."""
    query = request.args.get("q", "").strip()
    page = paginate(search(query), page_number())
    state = policies.current_state()
    return (
        render_template(
            "admin/groups.html",
            page=page,
            query=query,
            counts=member_counts([g.id for g in page.items]),
            kind_of=app_groups.kind_of,
            create_reason=policy_reason("manage_app_group", state),
            role_reason=policy_reason("assign_group_role", state),
            scim_create_reason=policy_reason("create_delete_scim_group", state),
        ),
        200,
    )


def detail(group_id: int) -> tuple[str, int]:
    """One group: kind, SCIM id, externalId, role, its members, its provisioning history, and the
    controls its kind allows."""
    group = app_groups.get(group_id)
    state = policies.current_state()
    scim = _is_scim(group)
    edit_reason = policy_reason("edit_scim_group" if scim else "manage_app_group", state)
    delete_reason = policy_reason("create_delete_scim_group" if scim else "manage_app_group", state)
    members = list(
        db.session.execute(
            sa.select(User)
            .join(GroupMembership, GroupMembership.user_id == User.id)
            .where(GroupMembership.group_id == group.id)
            .order_by(User.username)
            .limit(MEMBERS_SHOWN)
        )
        .unique()
        .scalars()
    )
    return (
        render_template(
            "admin/group.html",
            group=group,
            scim=scim,
            members=members,
            total=member_counts([group.id])[group.id],
            members_shown=MEMBERS_SHOWN,
            edit_reason=edit_reason,
            delete_reason=delete_reason,
            role_reason=policy_reason("assign_group_role", state),
            history=paginate(history(group), page_number(), HISTORY_PER_PAGE),
        ),
        200,
    )


def _to_group(group_id: int) -> Response:
    return redirect(url_for("admin_pages.group", group_id=group_id), 303)


def _require_edit(group: DirectoryGroup) -> None:
    policies.require("edit_scim_group" if _is_scim(group) else "manage_app_group")


def create() -> Response:
    """Create an application-defined group, optionally with a role (SCIM groups come from the IdP)."""
    state = policies.current_state()
    policies.require("manage_app_group", state)
    role = request.form.get("role") or None
    if role is not None:
        policies.require("assign_group_role", state)
    group = app_groups.create_app_group(request.form.get("name", "").strip(), [], role)
    flash(f"Group {group.external_unique_name} created.", "success")
    return _to_group(group.id)


def rename(group_id: int) -> Response:
    """Rename an application-defined group."""
    group = app_groups.get(group_id)
    _require_edit(group)
    app_groups.update_app_group(group, name=request.form.get("name", "").strip())
    flash(f"Group renamed to {group.external_unique_name}.", "success")
    return _to_group(group.id)


def add_member(group_id: int) -> Response:
    """Add a user, by exact username, to an application-defined group."""
    group = app_groups.get(group_id)
    _require_edit(group)
    username = request.form.get("username", "")
    user = users.find_by_username(username)
    if user is None:
        raise AccountError("not_found", f"no user is named {username!r} (usernames are case-sensitive)", 404)
    current = app_groups.member_ids([group.id])[group.id]
    app_groups.update_app_group(group, members=[*current, user.id])
    flash(f"{user.username} added to {group.external_unique_name}.", "success")
    return _to_group(group.id)


def remove_member(group_id: int, user_id: int) -> Response:
    """Remove a user from an application-defined group."""
    group = app_groups.get(group_id)
    _require_edit(group)
    current = app_groups.member_ids([group.id])[group.id]
    app_groups.update_app_group(group, members=[m for m in current if m != user_id])
    flash("Member removed.", "success")
    return _to_group(group.id)


def set_role(group_id: int) -> Response:
    """Map a role to any group, application-defined or SCIM (empty removes it)."""
    group = app_groups.get(group_id)
    policies.require("assign_group_role")
    role = app_groups.set_group_role(group, request.form.get("role") or None)
    flash(f"{group.external_unique_name}: {role.label if role else 'no role'}.", "success")
    target = request.form.get("back")
    if target == "list":
        return redirect(url_for("admin_pages.groups"), 303)
    return _to_group(group.id)


def delete(group_id: int) -> Response:
    """Delete an application-defined group (a SCIM group is deleted only by the IdP)."""
    group = app_groups.get(group_id)
    policies.require("create_delete_scim_group" if _is_scim(group) else "manage_app_group")
    name = group.external_unique_name
    app_groups.delete_group(group)
    flash(f"Group {name} deleted.", "success")
    return redirect(url_for("admin_pages.groups"), 303)
