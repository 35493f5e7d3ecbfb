"""Typed access to the shared configuration table (the reference's ``alation_conf``).

Every process and node reads the same rows, so a change is visible to the next request
everywhere. Reading a few dozen rows on every request was the largest fixed cost of a SCIM
request, so each app keeps the small rows it last read in memory, tagged with the token of
``scimgate_conf_version``; a request reads only that token (one row by primary key) and re-reads
the table when the token moved. Every write replaces the token in the same transaction, so no
process can serve a stale client, credential or sync flag: the next request anywhere sees it.
Within one request the snapshot is kept in its ``RequestState``; outside a request (CLI, shell)
every read goes to the database.

Only the validating writers above write here (``scimgate.configuration_utils``, the account
settings, the SAML username attribute). Storage sits below the audit trail, so it cannot record
a write itself: each writer passes the recording as ``record`` (``scimgate.logs.audit.conf_change``),
and it runs in the write's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from scimgate.conf.keys import BY_NAME, KEYS
from scimgate.db.prepared import Prepared
from scimgate.db.request_state import current_state
from scimgate.db.transactions import before_the_write
from scimgate.extensions import db
from scimgate.models import ConfEntry, ConfVersion, utcnow

_APP_CACHE_KEY = "scimgate_conf_cache"
_VERSION_ID = 1
# Run on every request, so it is a prepared statement (straight to the driver).
_READ_TOKEN = Prepared(
    sa.select(ConfVersion.__table__.c.token).where(ConfVersion.__table__.c.id == sa.bindparam("id"))
)


@dataclass(frozen=True)
class ConfValue:
    """One stored value and when it was last written."""

    value: Any
    updated_at: dt.datetime | None


# Keys holding documents (IdP metadata): read only when asked for, not on every request.
_LARGE_KEYS = frozenset(info.name for info in KEYS if info.display == "size")

# Called in a write's transaction with each changed key's (before, after), as the audit trail may
# show them; it records the change (``scimgate.logs.audit.conf_change``).
Recorder = Callable[[dict[str, tuple[Any, Any]]], None]


def _load_all() -> dict[str, ConfValue]:
    """Read every small row in one query (large documents are read on demand by ``get``)."""
    rows = db.session.execute(
        db.select(ConfEntry.key, ConfEntry.value, ConfEntry.updated_at).where(
            ConfEntry.key.not_in(sorted(_LARGE_KEYS))
        )
    ).all()
    return {key: ConfValue(json.loads(raw), updated) for key, raw, updated in rows}


def _load_one(key: str) -> ConfValue | None:
    row = db.session.execute(
        db.select(ConfEntry.value, ConfEntry.updated_at).where(ConfEntry.key == key)
    ).first()
    return None if row is None else ConfValue(json.loads(row[0]), row[1])


def snapshot() -> dict[str, ConfValue]:
    """Return all small keys: once per request, from this app's memory while the token holds.

    The returned mapping is shared between requests: callers must not mutate it or its values
    (``get`` of a list is copied by the callers that change it).
    """
    state = current_state()
    if state is None:
        return _load_all()
    if state.conf_snapshot is None:
        state.conf_snapshot = _current_snapshot()
    return state.conf_snapshot


def _current_snapshot() -> dict[str, ConfValue]:
    """The app's remembered snapshot when the stored token still matches it, else a fresh read.

    Without a token row (a database emptied by hand, or by the tests) nothing is remembered.
    The token is read before the rows, so a snapshot is never older than the token it carries.
    """
    # On PostgreSQL a write's BEGIN waits for its first write (``before_the_write``).
    return before_the_write(_token_checked_snapshot)


def _token_checked_snapshot() -> dict[str, ConfValue]:
    token = _read_token()
    extensions = current_app.extensions
    held = extensions.get(_APP_CACHE_KEY)
    if token is not None and held is not None and held[0] == token:
        return held[1]
    values = _load_all()
    extensions[_APP_CACHE_KEY] = (token, values) if token is not None else None
    return values


def _read_token() -> str | None:
    """The stored version token (on PostgreSQL outside a write's transaction: ``_current_snapshot``)."""
    row = _READ_TOKEN.first({"id": _VERSION_ID})
    return None if row is None else row[0]


def _replace_token() -> None:
    """Give the configuration a new version token (in the caller's transaction)."""
    row = db.session.get(ConfVersion, _VERSION_ID)
    if row is None:
        db.session.add(ConfVersion(id=_VERSION_ID, token=uuid.uuid4().hex))
    else:
        row.token = uuid.uuid4().hex


def _forget() -> None:
    """Drop the per-request copy after a write (and the client read from it), so the writer
    reads its own change."""
    state = current_state()
    if state is not None:
        state.conf_snapshot = state.client = state.hooks = None


def get(key: str, default: Any = None) -> Any:
    """Return the value of ``key`` or ``default`` when it was never set."""
    entry = get_entry(key)
    return default if entry is None else entry.value


def get_entry(key: str) -> ConfValue | None:
    """Return the value with its ``updated_at``, or None when never set."""
    if key in _LARGE_KEYS:
        return _load_one(key)
    return snapshot().get(key)


def get_str(key: str, default: str | None = None) -> str | None:
    """Return a string value; a stored non-string is a corrupted table and raises TypeError."""
    value = get(key, default)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"configuration key {key!r} holds {type(value).__name__}, expected str")
    return value


def get_bool(key: str, default: bool = False) -> bool:
    """Return a boolean value (JSON true/false)."""
    value = get(key, default)
    if not isinstance(value, bool):
        raise TypeError(f"configuration key {key!r} holds {type(value).__name__}, expected bool")
    return value


def get_datetime(key: str) -> dt.datetime | None:
    """Return a naive-UTC datetime stored as ISO 8601 text, or None."""
    value = get_str(key)
    return None if value is None else dt.datetime.fromisoformat(value)


def encode_datetime(value: dt.datetime) -> str:
    """Encode a naive-UTC datetime for ``put_many``."""
    return value.replace(microsecond=0).isoformat()


def put_many(
    values: dict[str, Any],
    *,
    delete: tuple[str, ...] = (),
    record: Recorder | None = None,
) -> None:
    """Write several keys (and remove others) in one transaction, so readers never see half.

    ``record`` is called in the same transaction with each changed key's before/after (secrets
    as ``<set>``, documents as their size), so the audit trail cannot disagree with the table;
    a write that changes nothing calls nothing. Only tests write without it.
    """
    now = utcnow()
    try:
        changes: dict[str, tuple[Any, Any]] = {}
        for key, value in values.items():
            raw = json.dumps(value, sort_keys=True)
            row = db.session.get(ConfEntry, key)
            before = None if row is None else json.loads(row.value)
            if row is None:
                db.session.add(ConfEntry(key=key, value=raw, updated_at=now))
            else:
                row.value = raw
                row.updated_at = now
            if before != value:
                changes[key] = (_audit_view(key, before), _audit_view(key, value))
        for key in delete:
            row = db.session.get(ConfEntry, key)
            if row is not None:
                changes[key] = (_audit_view(key, json.loads(row.value)), None)
                db.session.delete(row)
        if changes and record is not None:
            record(changes)
        _replace_token()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        _forget()


def _audit_view(key: str, value: Any) -> Any:
    """What the audit trail may show of a value: never a secret, never a whole metadata file."""
    if value is None:
        return None
    display = BY_NAME[key].display if key in BY_NAME else "plain"
    if display == "secret" or "hash" in key or "pepper" in key or "password" in key:
        return "<set>"
    if display == "size" and isinstance(value, str):
        return f"<{len(value)} characters>"
    return value


def put(key: str, value: Any, *, record: Recorder | None = None) -> None:
    """Write one key (``record`` as in ``put_many``)."""
    put_many({key: value}, record=record)
