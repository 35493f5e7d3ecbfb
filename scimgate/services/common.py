"""Helpers every resource service shares: reads by id (locked for a write), unique-constraint
conflicts, versions (ETags), timestamps and list queries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from scimgate.db.connection import get_connection
from scimgate.db.prepared import Prepared
from scimgate.extensions import db
from scimgate.scim import filter_sql
from scimgate.scim.errors import InvalidValue, NotFound, PreconditionFailed, Uniqueness
from scimgate.scim.filters import Expr
from scimgate.scim.projection import Projection
from scimgate.services import cursors

R = TypeVar("R")


def is_resource_id(value: str) -> bool:
    """True for the canonical lower-case UUID form scimgate assigns as ``id``.

    Anything else cannot name a resource, so it is 404 without a query (and a NUL or other
    oddity in a URL never reaches the database driver).
    """
    try:
        return str(uuid.UUID(value)) == value
    except (ValueError, TypeError, AttributeError):
        return False


def read_by_scim_id(
    label: str, scim_id: str, read: Callable[[str], R | None], *, lock: Prepared | None = None
) -> R:
    """The resource ``read(scim_id)`` finds; malformed or unknown ids are 404.

    A write passes ``lock``, a statement that locks the SCIM link row by ``key``: it runs first,
    by itself, since under READ COMMITTED a ``FOR UPDATE`` that waited re-reads only the locked
    row, so rows joined in the same statement could be stale. SQLite has no row locks (a write
    request's ``BEGIN IMMEDIATE`` already holds the database's), so there the lock is skipped.
    """
    if not is_resource_id(scim_id):
        raise NotFound(f"{label} '{scim_id[:100]}' not found.")
    if lock is not None and get_connection().dialect.name != "sqlite":
        lock.rows({"key": scim_id})
    found = read(scim_id)
    if found is None:
        raise NotFound(f"{label} '{scim_id}' not found.")
    return found


@contextmanager
def unique_conflicts(conflict: Callable[[], Uniqueness | None]) -> Iterator[None]:
    """Turn a unique-constraint failure in the block (the database decides) into 409.

    After the rollback, ``conflict()`` looks at what holds the unique value and returns the 409
    to raise; None means the failure was not that value's, a genuine server fault left to
    surface as one.
    """
    try:
        yield
    except IntegrityError:
        db.session.rollback()
        error = conflict()
        if error is None:
            raise
        raise error from None


def etag(version: int) -> str:
    """Render a version as a weak entity tag (RFC 7644 §3.14, RFC 7232 §2.3)."""
    return f'W/"{version}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag.strip('"')


def check_if_match(if_match: str | None, version: int) -> None:
    """Refuse a write whose ``If-Match`` names another version (412, RFC 7644 §3.14)."""
    if not if_match:
        return
    tags = [t for t in (part.strip() for part in if_match.split(",")) if t]
    if "*" in tags or any(_opaque(t) == str(version) for t in tags):
        return
    raise PreconditionFailed(
        f"If-Match {if_match} does not match the current version {etag(version)}; "
        "read the resource again and retry with its ETag."
    )


def if_none_match_hits(if_none_match: str | None, version: int) -> bool:
    """True when ``If-None-Match`` names the current version, so GET may answer 304."""
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",") if t.strip()]
    return "*" in tags or any(_opaque(t) == str(version) for t in tags)


def timestamp(value: dt.datetime) -> str:
    """Render a naive-UTC timestamp as RFC 3339 with a ``Z`` (RFC 7643 §2.3.5)."""
    return value.isoformat() + "Z"


@dataclass(frozen=True)
class ListQuery:
    """A parsed list or .search request (RFC 7644 §3.4.2).

    ``cursor`` is None for index pagination (``startIndex``); a string (empty for the first page)
    selects cursor pagination (RFC 9865).
    """

    filter: Expr | None = None
    sort_by: str | None = None
    descending: bool = False
    start_index: int = 1
    count: int = 100
    projection: Projection | None = None
    extra: dict[str, str] = field(default_factory=dict)
    cursor: str | None = None


@dataclass
class Page:
    """One page of a list: the total matching count, the rows, and the next cursor if any."""

    total: int
    items: list
    next_cursor: str | None = None


def sort_column(sort_by: str | None, attribute_map: dict, schema_urn: str) -> ColumnElement | None:
    """Map ``sortBy`` to a column; only single-valued attributes (or a multi-valued's value) sort."""
    if not sort_by:
        return None
    key = sort_by.strip().lower()
    prefix = schema_urn.lower() + ":"
    if key.startswith(prefix):
        key = key[len(prefix) :]
    spec = attribute_map.get(key)
    if isinstance(spec, filter_sql.MultiValued):
        spec = spec.sub_attributes.get(spec.default_sub)
        if key != "emails":
            spec = None
    if spec is None or not isinstance(spec, filter_sql.Column):
        raise InvalidValue(f"sortBy '{sort_by}' is not an attribute scimgate can sort by.")
    return spec.expr


def _page_keys(narrow_key: ColumnElement, query: ListQuery, total: int) -> sa.Select:
    """The keys of an unsorted ``startIndex`` page, read from the nearer end of the key index.

    An OFFSET walks the rows it skips, so a page in the second half is read backwards from the
    other end (then put in order by the caller's ORDER BY): the last page skips nothing, and no
    page walks more than half the index. ``total`` is the count just taken; a row written in
    between moves a page by a row, as it would with OFFSET from the front.
    """
    skip = query.start_index - 1
    size = min(query.count, total - skip)
    from_end = total - skip - size
    read_descending = query.descending
    if from_end < skip:
        skip, read_descending = from_end, not read_descending
    direction = narrow_key.desc() if read_descending else narrow_key.asc()
    return sa.select(narrow_key).order_by(direction).offset(skip).limit(size)


def paginate(
    statement: sa.Select,
    sort_expr: ColumnElement | None,
    key: ColumnElement,
    query: ListQuery,
    resource_type: str,
    count_statement: sa.Select | None = None,
    *,
    from_row: Callable[[Any], Any],
    narrow_key: ColumnElement | None = None,
) -> Page:
    """Run a count and one page query; the order is the sort attribute, then ``key`` (stable).

    ``count_statement`` may give a cheaper way to count the same rows (e.g. one table when
    there is no filter). ``statement`` selects plain columns that ``from_row`` turns into an
    item (trailing columns added here are ignored).
    ``narrow_key`` (a column equal to ``key`` in a one-table index, e.g. the link table's key)
    lets an unsorted ``startIndex`` page skip its OFFSET rows in that index only, then join the
    page's rows, reading the index from whichever end is nearer (``_page_keys``): the last page
    of 100k users costs what the first one does. Index pagination
    uses OFFSET (``startIndex`` is 1-based); cursor pagination (RFC 9865) seeks past the last row
    of the previous page, so the last page costs what the first one does.
    """
    if count_statement is None:
        count_statement = sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
    connection = get_connection()
    total = connection.execute(count_statement).scalar() or 0
    order = [sort_expr.desc() if query.descending else sort_expr.asc()] if sort_expr is not None else []
    order.append(key.desc() if query.descending and sort_expr is None else key.asc())
    if query.cursor is None:
        if query.count == 0 or query.start_index > total:  # also keeps a huge startIndex out of SQL
            return Page(total, [])
        if narrow_key is not None and sort_expr is None:
            keys = _page_keys(narrow_key, query, total)
            page = statement.where(key.in_(keys.scalar_subquery())).order_by(*order)
        else:
            page = statement.order_by(*order).offset(query.start_index - 1).limit(query.count)
        return Page(total, [from_row(row) for row in connection.execute(page)])

    fingerprint = cursors.fingerprint(resource_type, query)
    if query.cursor:
        position = cursors.decode(query.cursor, fingerprint)
        statement = statement.where(cursors.after(position, sort_expr, key, query.descending))
    if query.count == 0:
        return Page(total, [])
    columns = [sort_expr if sort_expr is not None else sa.null(), key]
    rows = connection.execute(statement.add_columns(*columns).order_by(*order).limit(query.count + 1)).all()
    items = [from_row(row) for row in rows[: query.count]]
    next_cursor = None
    if len(rows) > query.count:
        last = rows[query.count - 1]
        next_cursor = cursors.encode(fingerprint, last[-2], last[-1])
    return Page(total, items, next_cursor)
