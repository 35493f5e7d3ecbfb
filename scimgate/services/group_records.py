"""How SCIM groups are read and written: plain rows from SQL Core into a ``GroupRecord``.

The same style as users (``user_records``, ``user_writes``): a group is two rows
(``directory_group``, ``scim_group``), read by one prebuilt statement and written by prebuilt
``INSERT``/``UPDATE``/``DELETE`` statements (``scimgate.db.prepared``) on only the rows that
change. Members are plain rows too (``services.memberships``). The rules of *what* to write
(names, conflicts, members) stay in ``services.groups``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import sqlalchemy as sa

from scimgate.db.prepared import Prepared
from scimgate.models import DirectoryGroup, ScimGroup, name_digest

_group = DirectoryGroup.__table__.c
_link = ScimGroup.__table__.c


class GroupRecord(NamedTuple):
    """What the SCIM representation of a group is made of (columns in ``GROUP_COLUMNS`` order)."""

    group_id: int
    scim_id: str
    external_id: str | None
    display_name: str
    created: Any
    last_modified: Any
    version: int


GROUP_COLUMNS = (
    _group.id,
    _link.scim_group_uuid,
    _link.external_id,
    _group.external_unique_name,
    _link.created,
    _link.last_modified,
    _link.version,
)
_WIDTH = len(GROUP_COLUMNS)
_GROUPS = sa.select(*GROUP_COLUMNS).select_from(
    DirectoryGroup.__table__.join(ScimGroup.__table__, _link.group_id == _group.id)
)
KEY = _group.id  # the stable order of a list (and what its cursor holds)
_BY_ID = Prepared(_GROUPS.where(_link.scim_group_uuid == sa.bindparam("key")))
LOCK = Prepared(
    sa.select(_link.group_id).where(_link.scim_group_uuid == sa.bindparam("key")).with_for_update()
)


def groups_statement() -> sa.Select:
    """Every SCIM group's columns (built once); callers add filters, order and limits."""
    return _GROUPS


def record_from_row(row: Any) -> GroupRecord:
    """A record from a row that starts with ``GROUP_COLUMNS`` (extra trailing columns ignored)."""
    return GroupRecord(*row[:_WIDTH])


def find_group(scim_id: str) -> GroupRecord | None:
    """The SCIM group with this id, in one statement, or None."""
    row = _BY_ID.first({"key": scim_id})
    return None if row is None else record_from_row(row)


class NameHolder(NamedTuple):
    """The group that holds a displayName: is it a SCIM group, or one defined in the application?"""

    group_id: int
    is_scim: bool


_NAME_HOLDER = Prepared(
    sa.select(_group.id, _link.group_id)
    .select_from(DirectoryGroup.__table__.outerjoin(ScimGroup.__table__, _link.group_id == _group.id))
    .where(_group.name_digest == sa.bindparam("digest"))
)


def name_holder(name: str) -> NameHolder | None:
    """The group whose name is exactly ``name`` (through its unique digest), or None."""
    row = _NAME_HOLDER.first({"digest": name_digest(name)})
    return None if row is None else NameHolder(row[0], row[1] is not None)


_INSERT_GROUP = Prepared(
    sa.insert(DirectoryGroup.__table__).returning(_group.id),
    keys=("external_unique_name", "name_digest", "created", "role"),
)
_INSERT_LINK = Prepared(
    sa.insert(ScimGroup.__table__),
    keys=("group_id", "scim_group_uuid", "client", "external_id", "created", "last_modified", "version"),
)
_RENAME = Prepared(
    sa.update(DirectoryGroup.__table__)
    .where(_group.id == sa.bindparam("row_key"))
    .values(external_unique_name=sa.bindparam("new_name"), name_digest=sa.bindparam("new_digest"))
)
_UPDATE_LINK = Prepared(
    sa.update(ScimGroup.__table__)
    .where(_link.group_id == sa.bindparam("row_key"))
    .values(
        external_id=sa.bindparam("new_external_id"),
        version=sa.bindparam("new_version"),
        last_modified=sa.bindparam("new_last_modified"),
    )
)
_DELETE = Prepared(sa.delete(DirectoryGroup.__table__).where(_group.id == sa.bindparam("row_key")))


def insert(name: str, scim_id: str, client: str, external_id: str | None, now: dt.datetime) -> GroupRecord:
    """Create the rows of a new SCIM group; a name another group holds raises ``IntegrityError``."""
    group_id = _INSERT_GROUP.scalar(
        {"external_unique_name": name, "name_digest": name_digest(name), "created": now, "role": None}
    )
    _INSERT_LINK.run(
        {
            "group_id": group_id,
            "scim_group_uuid": scim_id,
            "client": client,
            "external_id": external_id,
            "created": now,
            "last_modified": now,
            "version": 1,
        }
    )
    return GroupRecord(group_id, scim_id, external_id, name, now, now, 1)


def update(record: GroupRecord, name: str, external_id: str | None, now: dt.datetime) -> GroupRecord:
    """Write the name (only when it changed) and externalId with a new version; return the group
    as written. A name another group holds raises ``IntegrityError`` here, at the statement."""
    if name != record.display_name:
        _RENAME.run({"row_key": record.group_id, "new_name": name, "new_digest": name_digest(name)})
    written = record._replace(
        display_name=name, external_id=external_id, version=record.version + 1, last_modified=now
    )
    _UPDATE_LINK.run(
        {
            "row_key": record.group_id,
            "new_external_id": external_id,
            "new_version": written.version,
            "new_last_modified": now,
        }
    )
    return written


def delete(record: GroupRecord) -> None:
    """Delete the group: ``ON DELETE CASCADE`` removes its link and membership rows."""
    _DELETE.run({"row_key": record.group_id})
