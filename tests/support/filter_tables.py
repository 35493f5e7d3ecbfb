"""Tables of their own for the filter translator tests (not the app's): ``filter_users`` and
``filter_tags``, their attribute map, and the same rows as SCIM JSON for ``filter_eval``."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.scim import urns
from scimgate.scim.filter_sql import AttributeMap, Column, MultiValued

METADATA = sa.MetaData()

USERS = sa.Table(
    "filter_users",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("username", sa.String(100)),
    sa.Column("email", sa.String(100)),
    sa.Column("display_name", sa.String(100)),
    sa.Column("active", sa.Boolean),
    sa.Column("last_modified", sa.DateTime),
    sa.Column("login_count", sa.Integer),
    sa.Column("certificate", sa.LargeBinary),
    sa.Column("password", sa.String(100)),
)

TAGS = sa.Table(
    "filter_tags",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("filter_users.id"), nullable=False),
    sa.Column("value", sa.String(100)),
    sa.Column("type", sa.String(100)),
)


def _tags_exist(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """Some tag row of this user satisfies ``condition`` (correlated EXISTS)."""
    return sa.exists().where(TAGS.c.user_id == USERS.c.id, condition)


ATTRIBUTES: AttributeMap = {
    "username": Column(USERS.c.username, "string", case_exact=True),
    "email": Column(USERS.c.email, "string", case_exact=False),
    "displayname": Column(USERS.c.display_name, "string", case_exact=False),
    "active": Column(USERS.c.active, "boolean", case_exact=False),
    "meta.lastmodified": Column(USERS.c.last_modified, "dateTime", case_exact=False),
    "logincount": Column(USERS.c.login_count, "integer", case_exact=False),
    "certificate": Column(USERS.c.certificate, "binary", case_exact=True),
    "password": Column(USERS.c.password, "string", case_exact=True, filterable=False),
    "tags": MultiValued(
        {
            "value": Column(TAGS.c.value, "string", case_exact=False),
            "type": Column(TAGS.c.type, "string", case_exact=True),
        },
        _tags_exist,
    ),
}
CASE_EXACT_KEYS = frozenset({"username", "certificate", "tags.type"})
SCHEMAS = (urns.USER, urns.ENTERPRISE_USER)


def case_exact(key: str) -> bool:
    """The caseExact flags of ``ATTRIBUTES`` in the form ``filter_eval.matches`` takes."""
    return key in CASE_EXACT_KEYS


def user_row(
    id: int,
    username: str | None,
    email: str | None = None,
    display_name: str | None = None,
    active: bool | None = None,
    last_modified: datetime | None = None,
    login_count: int | None = None,
    certificate: bytes | None = None,
) -> dict[str, Any]:
    """A ``filter_users`` row as a dict."""
    return {
        "id": id,
        "username": username,
        "email": email,
        "display_name": display_name,
        "active": active,
        "last_modified": last_modified,
        "login_count": login_count,
        "certificate": certificate,
        "password": "secret",
    }


def as_resource(row: dict[str, Any], tags: list[tuple[str | None, str | None]]) -> dict[str, Any]:
    """The SCIM JSON shape of a row, as ``filter_eval.matches`` sees it."""
    modified = row["last_modified"]
    certificate = row["certificate"]
    return {
        "schemas": [urns.USER],
        "id": str(row["id"]),
        "userName": row["username"],
        "email": row["email"],
        "displayName": row["display_name"],
        "active": row["active"],
        "meta": {"lastModified": None if modified is None else modified.isoformat() + "Z"},
        "loginCount": row["login_count"],
        "certificate": None if certificate is None else base64.b64encode(certificate).decode(),
        "tags": [{"value": value, "type": kind} for value, kind in tags],
    }


def load(conn: sa.Connection, users: list[dict[str, Any]], tags: dict[int, list[tuple[Any, Any]]]) -> None:
    """Replace the contents of both tables."""
    conn.execute(TAGS.delete())
    conn.execute(USERS.delete())
    if users:
        conn.execute(USERS.insert(), users)
    tag_rows = [{"user_id": uid, "value": v, "type": t} for uid, pairs in tags.items() for v, t in pairs]
    if tag_rows:
        conn.execute(TAGS.insert(), tag_rows)
