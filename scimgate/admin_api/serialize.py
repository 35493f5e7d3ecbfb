"""The JSON shapes of users and groups."""

from __future__ import annotations

from typing import Any

from scimgate.accounts import groups as app_groups
from scimgate.accounts.users import AccountView
from scimgate.models import DirectoryGroup


def group_ref(group: DirectoryGroup) -> dict[str, Any]:
    """A group as listed inside a user."""
    return {"id": group.id, "name": group.external_unique_name, "kind": app_groups.kind_of(group).value}


def user_json(account: AccountView) -> dict[str, Any]:
    """A user: kind, whether SCIM manages it, active/suspended, effective role and groups."""
    user = account.user
    return {
        "id": user.id,
        "username": user.username,
        "kind": account.kind.value,
        "scim_managed": user.scim is not None,
        "scim_id": user.scim.scim_user_uuid if user.scim else None,
        "active": bool(user.is_active),
        "suspended": bool(user.profile.is_suspended) if user.profile else False,
        "approval_pending": bool(user.approval_pending),
        "status": account.status.value,
        "role": account.role.value,
        "role_label": account.role.label,
        "assigned_role": user.role,
        "display_name": user.profile.display_name if user.profile else "",
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "groups": [group_ref(g) for g in account.groups],
    }


def group_json(group: DirectoryGroup, members: list[int]) -> dict[str, Any]:
    """A group: kind (application or scim), mapped role and member user ids."""
    return {
        **group_ref(group),
        "scim_id": group.scim.scim_group_uuid if group.scim else None,
        "role": group.role,
        "members": members,
    }
