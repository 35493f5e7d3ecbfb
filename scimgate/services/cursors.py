"""Cursor pagination (RFC 9865): opaque, signed cursors that remember where a page ended.

A cursor carries the last row's sort value and key, signed with the app's secret key
(itsdangerous), and a fingerprint of the query it belongs to: a cursor cannot be forged,
replayed against another filter or sort order, or used after ``CURSOR_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.sql.elements import ColumnElement

from scimgate.scim.errors import ScimError
from scimgate.scim.filters import format_filter

CURSOR_TIMEOUT_SECONDS = 3600
_SALT = "scimgate.cursor.v1"


@dataclass(frozen=True)
class Position:
    """Where the previous page ended."""

    sort_value: Any
    key: Any


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def fingerprint(resource_type: str, query: Any) -> str:
    """Identify the query (resource type, filter, sort) a cursor belongs to."""
    parts = [
        resource_type,
        format_filter(query.filter) if query.filter is not None else "",
        (query.sort_by or "").lower(),
        "desc" if query.descending else "asc",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return dt.datetime.fromisoformat(value["dt"])
    return value


def encode(query_fingerprint: str, sort_value: Any, key: Any) -> str:
    """Make the cursor that resumes after a row."""
    return _serializer().dumps({"q": query_fingerprint, "s": _plain(sort_value), "k": key})


def decode(cursor: str, query_fingerprint: str) -> Position:
    """Read a cursor; a tampered, foreign or expired one is a 400 (RFC 9865 error types)."""
    try:
        data = _serializer().loads(
            cursor, max_age=current_app.config.get("CURSOR_TIMEOUT", CURSOR_TIMEOUT_SECONDS)
        )
    except SignatureExpired:
        raise ScimError(
            "The cursor has expired; start again with an empty 'cursor' parameter.", scim_type="expiredCursor"
        ) from None
    except BadSignature:
        raise ScimError(
            "The cursor is not one this server issued; use the 'nextCursor' value of the previous page.",
            scim_type="invalidCursor",
        ) from None
    if not isinstance(data, dict) or data.get("q") != query_fingerprint:
        raise ScimError(
            "The cursor belongs to a different query; keep the same filter and sort order while paging.",
            scim_type="invalidCursor",
        )
    return Position(_restore(data.get("s")), data.get("k"))


def after(position: Position, sort_expr: ColumnElement | None, key: ColumnElement, descending: bool):
    """The rows strictly after ``position`` in (sort value, key) order."""
    if sort_expr is None:
        return key < position.key if descending else key > position.key
    beyond = sort_expr < position.sort_value if descending else sort_expr > position.sort_value
    return sa.or_(beyond, sa.and_(sort_expr == position.sort_value, key > position.key))
