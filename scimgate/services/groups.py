"""Group resources: create, read, list, replace, patch, delete (RFC 7644 §3.3 to §3.6).

Membership changes never read the whole member list: PATCH operations on ``members`` become
row inserts and deletes, and a group read that excludes ``members`` issues no member query.
Rows are read and written with SQL Core (``group_records``, ``memberships``), as users are; a
write is the lock, one read, its member statements, the group's own ``UPDATE``s and one commit.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from scimgate.extensions import db
from scimgate.logs import audit
from scimgate.logs import scim_logs as scim_logging
from scimgate.models import ScimGroup, utcnow
from scimgate.scim import schema as scim_schema
from scimgate.scim import urns
from scimgate.scim.errors import InvalidPath, Uniqueness
from scimgate.scim.filter_sql import to_sql
from scimgate.scim.patch import Operation, PatchEngine
from scimgate.scim.schema import Attribute
from scimgate.services import group_records, memberships
from scimgate.services.attribute_maps import GROUP_ATTRIBUTES
from scimgate.services.common import (
    ListQuery,
    Page,
    check_if_match,
    paginate,
    read_by_scim_id,
    sort_column,
    unique_conflicts,
)
from scimgate.services.group_records import GroupRecord
from scimgate.services.payloads import GROUP_SCHEMA, load, refuse_unsafe_text
from scimgate.services.rendering import render_group


def get_group(scim_id: str, *, for_update: bool = False) -> GroupRecord:
    """A SCIM group by id in one statement (members not read); unknown ids are 404.

    A write (``for_update``) locks the group's link row first (see ``read_by_scim_id``).
    """
    lock = group_records.LOCK if for_update else None
    return read_by_scim_id("Group", scim_id, group_records.find_group, lock=lock)


def _name_conflict(name: str, event: str) -> Uniqueness | None:
    """The 409 for a displayName another group holds (None when free), logged with its reason.

    A group defined in the application is never adopted: it may carry a role (Server Admin), and
    the IdP would then decide its members, so who holds that role (issue #16, group takeover).
    """
    taken = group_records.name_holder(name)
    if taken is None:
        return None
    if not taken.is_scim:
        reason = "application-defined group"
        detail = (
            f"displayName '{name}' belongs to a group defined in the application; SCIM cannot take "
            "it over. Rename the group in the IdP or in the application."
        )
    else:
        reason = "SCIM group"
        detail = f"A group with displayName '{name}' already exists."
    scim_logging.info(event, displayName=name, reason=reason)
    return Uniqueness(detail, attribute="displayName")


def _log_members(group: GroupRecord, added: list[str], removed: list[str], cleared: int = 0) -> None:
    if added:
        scim_logging.lifecycle("group.member_added", scim_id=group.scim_id, members=",".join(added))
    if removed:
        scim_logging.lifecycle("group.member_removed", scim_id=group.scim_id, members=",".join(removed))
    if cleared:
        scim_logging.lifecycle("group.members_cleared", scim_id=group.scim_id, count=cleared)


CREATE_REFUSED = "group.create_refused"
RENAME_REFUSED = "group.rename_refused"


def create_group(body: dict[str, Any], client: str) -> GroupRecord:
    """Create a group with its members; a displayName any group holds is 409 ``uniqueness``.

    That includes a group defined in the application: it is never adopted (see ``_name_conflict``).
    """
    data = load(GROUP_SCHEMA, body, urns.GROUP)
    refuse_unsafe_text(data)
    name = data["displayName"]
    conflict = _name_conflict(name, CREATE_REFUSED)
    if conflict is not None:
        raise conflict
    with unique_conflicts(lambda: _name_conflict(name, CREATE_REFUSED)):
        group = group_records.insert(name, str(uuid.uuid4()), client, data.get("externalId"), utcnow())
        added: list[str] = []
        if data.get("members"):
            values = memberships.member_values(data["members"], context=f"create {name}")
            added = memberships.add_members(group.group_id, values, context=group.scim_id)
        audit.record(
            "group.created",
            "Group",
            group.scim_id,
            target_name=name,
            changes={"displayName": (None, name), **_id_list("members_added", added)},
        )
        db.session.commit()
    scim_logging.lifecycle("group.created", scim_id=group.scim_id, displayName=name)
    _log_members(group, added, [])
    return group


AUDIT_MAX_IDS = 1000


def _id_list(label: str, ids: list[str]) -> dict[str, object]:
    """Member ids for the audit trail: all of them up to AUDIT_MAX_IDS, and always the count."""
    if not ids:
        return {}
    out: dict[str, object] = {label: ids[:AUDIT_MAX_IDS]}
    if len(ids) > AUDIT_MAX_IDS:
        out[f"{label}_count"] = len(ids)
    return out


def _write(
    action: str,
    group: GroupRecord,
    data: dict[str, Any],
    external_id: str | None,
    members: tuple[list[str], list[str], int],
) -> GroupRecord:
    """Write the name and externalId with a new version, audit the change and commit it once;
    a name another group holds is 409 (at the rename's statement or at the commit)."""
    added, removed, cleared = members
    name = data["displayName"]
    with unique_conflicts(lambda: _name_conflict(name, RENAME_REFUSED)):
        written = group_records.update(group, name, external_id, utcnow())
        changes: dict[str, object] = {}
        if name != group.display_name:
            changes["displayName"] = (group.display_name, name)
        changes.update(_id_list("members_added", added))
        changes.update(_id_list("members_removed", removed))
        if cleared:
            changes["members_removed_count"] = cleared
        audit.record(action, "Group", group.scim_id, target_name=name, changes=changes)
        db.session.commit()
    if name != group.display_name:
        scim_logging.lifecycle("group.renamed", scim_id=group.scim_id, old=group.display_name, new=name)
    _log_members(group, added, removed, cleared)
    return written


def replace_group(scim_id: str, body: dict[str, Any], if_match: str | None) -> GroupRecord:
    """PUT (§3.5.1): name and externalId are replaced; ``members``, when given, is the full list.

    A PUT without a ``members`` key keeps the current members: the RFC lets the server choose,
    and clearing would silently empty groups for clients that only rename (IDP-QUIRKS #24).
    ``"members": []`` does clear them.
    """
    data = load(GROUP_SCHEMA, body, urns.GROUP)
    group = get_group(scim_id, for_update=True)
    check_if_match(if_match, group.version)
    refuse_unsafe_text(data, lambda: render_group(group, None, ""))
    added: list[str] = []
    cleared = 0
    if "members" in data:
        values = memberships.member_values(data["members"] or [], context=scim_id)
        cleared = memberships.clear_members(group.group_id)
        added = memberships.add_members(group.group_id, values, context=scim_id)
    external_id = data.get("externalId", group.external_id)
    return _write("group.replaced", group, data, external_id, (added, [], cleared))


class _MemberOperations:
    """Apply PATCH operations on ``members`` straight to membership rows, in request order."""

    def __init__(self, group: GroupRecord) -> None:
        self.group_id = group.group_id
        self.context = group.scim_id
        self.added: list[str] = []
        self.removed: list[str] = []
        self.cleared = 0

    def __call__(self, operation: Operation, attribute: Attribute) -> None:
        path = operation.path
        if path is not None and (path.sub_attr or path.path.sub_attr):
            raise InvalidPath(
                "Member sub-attributes cannot be changed; add or remove members by 'value' instead."
            )
        value_filter = path.value_filter if path is not None else None
        if operation.op == "remove":
            if value_filter is not None:
                self.cleared += memberships.remove_members_matching(self.group_id, value_filter)
            elif operation.has_value and operation.value not in (None, [], {}):
                # Entra ID: {"op":"Remove","path":"members","value":[{"value":"<id>"}]} removes those
                # members only; the literal reading (remove every member) would empty the group.
                values = memberships.member_values(operation.value, self.context)
                self.removed.extend(memberships.remove_members(self.group_id, values))
            else:
                self.cleared += memberships.clear_members(self.group_id)
            return
        if operation.value is None:
            return
        if operation.op == "replace":
            if value_filter is not None:
                self.cleared += memberships.remove_members_matching(self.group_id, value_filter)
            else:
                self.cleared += memberships.clear_members(self.group_id)
        values = memberships.member_values(operation.value, self.context)
        self.added.extend(memberships.add_members(self.group_id, values, self.context))


def patch_group(scim_id: str, operations: list[Operation], if_match: str | None) -> GroupRecord:
    """PATCH (§3.5.2): all operations in one transaction; members change row by row."""
    group = get_group(scim_id, for_update=True)
    check_if_match(if_match, group.version)
    member_ops = _MemberOperations(group)
    current = render_group(group, None, "")
    patched = PatchEngine(scim_schema.GROUP, delegates={"members": member_ops}).apply(current, operations)
    data = load(GROUP_SCHEMA, patched, urns.GROUP)
    refuse_unsafe_text(data, current)
    members = (member_ops.added, member_ops.removed, member_ops.cleared)
    return _write("group.patched", group, data, data.get("externalId"), members)


def delete_group(scim_id: str, if_match: str | None) -> None:
    """DELETE (§3.6): the group, its link and its membership rows, in one transaction."""
    group = get_group(scim_id, for_update=True)
    check_if_match(if_match, group.version)
    audit.record("group.deleted", "Group", scim_id, target_name=group.display_name)
    group_records.delete(group)
    db.session.commit()
    scim_logging.lifecycle("group.deleted", scim_id=scim_id, displayName=group.display_name)


def list_groups(query: ListQuery) -> Page:
    """A filtered, sorted page of SCIM groups: one count and one page statement (Core rows)."""
    statement = group_records.groups_statement()
    if query.filter is not None:
        statement = statement.where(to_sql(query.filter, GROUP_ATTRIBUTES, [urns.GROUP]))
    column = sort_column(query.sort_by, GROUP_ATTRIBUTES, urns.GROUP)
    count = sa.select(sa.func.count()).select_from(ScimGroup.__table__) if query.filter is None else None
    return paginate(
        statement, column, group_records.KEY, query, "Group", count, from_row=group_records.record_from_row
    )
