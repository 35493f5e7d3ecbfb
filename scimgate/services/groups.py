"""Group resources: create, read, list, replace, patch, delete (RFC 7644 §3.3 to §3.6).

Membership changes never read the whole member list: PATCH operations on ``members`` become
row inserts and deletes, and a group read that excludes ``members`` issues no member query.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from scimgate.extensions import db
from scimgate.logs import audit
from scimgate.logs import scim_logs as scim_logging
from scimgate.models import DirectoryGroup, ScimGroup, name_digest, utcnow
from scimgate.scim import schema as scim_schema
from scimgate.scim import urns
from scimgate.scim.errors import InvalidPath, Uniqueness
from scimgate.scim.filter_sql import to_sql
from scimgate.scim.patch import Operation, PatchEngine
from scimgate.scim.schema import Attribute
from scimgate.services import memberships
from scimgate.services.attribute_maps import GROUP_ATTRIBUTES
from scimgate.services.common import (
    ListQuery,
    Page,
    check_if_match,
    load_by_scim_id,
    paginate,
    sort_column,
)
from scimgate.services.payloads import GROUP_SCHEMA, load, refuse_unsafe_text
from scimgate.services.rendering import render_group


def _base_group_query() -> sa.Select:
    return sa.select(DirectoryGroup).join(ScimGroup, ScimGroup.group_id == DirectoryGroup.id)


def get_group(scim_id: str, *, for_update: bool = False) -> DirectoryGroup:
    """Load a SCIM group by id (members not loaded); unknown ids are 404."""
    return load_by_scim_id(
        "Group",
        scim_id,
        _base_group_query(),
        ScimGroup.scim_group_uuid,
        ScimGroup.group_id,
        for_update=for_update,
    )


def _group_named(name: str) -> DirectoryGroup | None:
    return (
        db.session.execute(sa.select(DirectoryGroup).where(DirectoryGroup.name_digest == name_digest(name)))
        .unique()
        .scalar_one_or_none()
    )


def _name_conflict(name: str, event: str) -> Uniqueness | None:
    """The 409 for a displayName another group holds (None when free), logged with its reason.

    A group defined in the application is never adopted: it may carry a role (Server Admin), and
    the IdP would then decide its members, so who holds that role (issue #16, group takeover).
    """
    taken = _group_named(name)
    if taken is None:
        return None
    if taken.scim is None:
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


def _commit_or_conflict(name: str, event: str) -> None:
    """Commit; a unique-constraint failure on the group name (the database decides) is 409."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        conflict = _name_conflict(name, event)
        if conflict is None:
            raise  # not the name: a genuine server fault, logged as unexpected
        raise conflict from None


def _log_members(group: DirectoryGroup, added: list[str], removed: list[str], cleared: int = 0) -> None:
    scim_id = group.scim.scim_group_uuid if group.scim else None
    if added:
        scim_logging.lifecycle("group.member_added", scim_id=scim_id, members=",".join(added))
    if removed:
        scim_logging.lifecycle("group.member_removed", scim_id=scim_id, members=",".join(removed))
    if cleared:
        scim_logging.lifecycle("group.members_cleared", scim_id=scim_id, count=cleared)


CREATE_REFUSED = "group.create_refused"
RENAME_REFUSED = "group.rename_refused"


def create_group(body: dict[str, Any], client: str) -> DirectoryGroup:
    """Create a group with its members; a displayName any group holds is 409 ``uniqueness``.

    That includes a group defined in the application: it is never adopted (see ``_name_conflict``).
    """
    data = load(GROUP_SCHEMA, body, urns.GROUP)
    refuse_unsafe_text(data)
    name = data["displayName"]
    conflict = _name_conflict(name, CREATE_REFUSED)
    if conflict is not None:
        raise conflict
    group = DirectoryGroup()
    group.set_name(name)
    db.session.add(group)
    now = utcnow()
    group.scim = ScimGroup(
        scim_group_uuid=str(uuid.uuid4()),
        client=client,
        external_id=data.get("externalId"),
        created=now,
        last_modified=now,
        version=1,
    )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        conflict = _name_conflict(name, CREATE_REFUSED)
        if conflict is None:
            raise  # not the name: a genuine server fault, logged as unexpected
        raise conflict from None
    added: list[str] = []
    if data.get("members"):
        values = memberships.member_values(data["members"], context=f"create {name}")
        added = memberships.add_members(group.id, values, context=group.scim.scim_group_uuid)
    audit.record(
        "group.created",
        "Group",
        group.scim.scim_group_uuid,
        target_name=name,
        changes={"displayName": (None, name), **_id_list("members_added", added)},
    )
    _commit_or_conflict(name, CREATE_REFUSED)
    scim_logging.lifecycle("group.created", scim_id=group.scim.scim_group_uuid, displayName=name)
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


def _audit_change(
    action: str, group: DirectoryGroup, old_name: str, added: list[str], removed: list[str], cleared: int
) -> None:
    changes: dict[str, object] = {}
    if old_name != group.external_unique_name:
        changes["displayName"] = (old_name, group.external_unique_name)
    changes.update(_id_list("members_added", added))
    changes.update(_id_list("members_removed", removed))
    if cleared:
        changes["members_removed_count"] = cleared
    scim_id = group.scim.scim_group_uuid if group.scim else None
    audit.record(action, "Group", scim_id, target_name=group.external_unique_name, changes=changes)


def _touch(group: DirectoryGroup) -> None:
    assert group.scim is not None
    group.scim.version += 1
    group.scim.last_modified = utcnow()


def _rename(group: DirectoryGroup, name: str) -> None:
    if name != group.external_unique_name:
        old = group.external_unique_name
        group.set_name(name)
        scim_logging.lifecycle(
            "group.renamed", scim_id=group.scim.scim_group_uuid if group.scim else None, old=old, new=name
        )


def replace_group(scim_id: str, body: dict[str, Any], if_match: str | None) -> DirectoryGroup:
    """PUT (§3.5.1): name and externalId are replaced; ``members``, when given, is the full list.

    A PUT without a ``members`` key keeps the current members: the RFC lets the server choose,
    and clearing would silently empty groups for clients that only rename (IDP-QUIRKS #24).
    ``"members": []`` does clear them.
    """
    data = load(GROUP_SCHEMA, body, urns.GROUP)
    group = get_group(scim_id, for_update=True)
    check_if_match(if_match, group.scim.version)
    refuse_unsafe_text(data, lambda: render_group(group, None, ""))
    added: list[str] = []
    cleared = 0
    if "members" in data:
        values = memberships.member_values(data["members"] or [], context=scim_id)
        cleared = memberships.clear_members(group.id)
        added = memberships.add_members(group.id, values, context=scim_id)
    # Rename after the member statements: their autoflush would write a taken name outside
    # _commit_or_conflict, a 500 instead of 409 (found by schemathesis).
    old_name = group.external_unique_name
    _rename(group, data["displayName"])
    if "externalId" in data:
        group.scim.external_id = data["externalId"]
    _audit_change("group.replaced", group, old_name, added, [], cleared)
    _touch(group)
    _commit_or_conflict(data["displayName"], RENAME_REFUSED)
    _log_members(group, added, [], cleared)
    return group


class _MemberOperations:
    """Apply PATCH operations on ``members`` straight to membership rows, in request order."""

    def __init__(self, group: DirectoryGroup) -> None:
        self.group = group
        self.context = group.scim.scim_group_uuid if group.scim else str(group.id)
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
                self.cleared += memberships.remove_members_matching(self.group.id, value_filter)
            elif operation.has_value and operation.value not in (None, [], {}):
                # Entra ID: {"op":"Remove","path":"members","value":[{"value":"<id>"}]} removes those
                # members only; the literal reading (remove every member) would empty the group.
                values = memberships.member_values(operation.value, self.context)
                self.removed.extend(memberships.remove_members(self.group.id, values))
            else:
                self.cleared += memberships.clear_members(self.group.id)
            return
        if operation.value is None:
            return
        if operation.op == "replace":
            if value_filter is not None:
                self.cleared += memberships.remove_members_matching(self.group.id, value_filter)
            else:
                self.cleared += memberships.clear_members(self.group.id)
        values = memberships.member_values(operation.value, self.context)
        self.added.extend(memberships.add_members(self.group.id, values, self.context))


def patch_group(scim_id: str, operations: list[Operation], if_match: str | None) -> DirectoryGroup:
    """PATCH (§3.5.2): all operations in one transaction; members change row by row."""
    group = get_group(scim_id, for_update=True)
    check_if_match(if_match, group.scim.version)
    member_ops = _MemberOperations(group)
    current = render_group(group, None, "")
    patched = PatchEngine(scim_schema.GROUP, delegates={"members": member_ops}).apply(current, operations)
    data = load(GROUP_SCHEMA, patched, urns.GROUP)
    refuse_unsafe_text(data, current)
    old_name = group.external_unique_name
    _rename(group, data["displayName"])
    group.scim.external_id = data.get("externalId")
    _audit_change("group.patched", group, old_name, member_ops.added, member_ops.removed, member_ops.cleared)
    _touch(group)
    _commit_or_conflict(data["displayName"], RENAME_REFUSED)
    _log_members(group, member_ops.added, member_ops.removed, member_ops.cleared)
    return group


def delete_group(scim_id: str, if_match: str | None) -> None:
    """DELETE (§3.6): the group, its link and its membership rows, in one transaction."""
    group = get_group(scim_id, for_update=True)
    check_if_match(if_match, group.scim.version)
    name = group.external_unique_name
    audit.record("group.deleted", "Group", scim_id, target_name=name)
    db.session.execute(sa.delete(DirectoryGroup).where(DirectoryGroup.id == group.id))
    db.session.commit()
    scim_logging.lifecycle("group.deleted", scim_id=scim_id, displayName=name)


def list_groups(query: ListQuery) -> Page:
    """A filtered, sorted page of SCIM groups: one count and one page statement."""
    statement = _base_group_query()
    if query.filter is not None:
        statement = statement.where(to_sql(query.filter, GROUP_ATTRIBUTES, [urns.GROUP]))
    column = sort_column(query.sort_by, GROUP_ATTRIBUTES, urns.GROUP)
    count = sa.select(sa.func.count()).select_from(ScimGroup) if query.filter is None else None
    return paginate(statement, column, DirectoryGroup.id, query, "Group", count)
