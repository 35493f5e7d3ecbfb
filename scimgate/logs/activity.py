"""Recent SCIM provisioning requests, shared by every process: the admin's "is the IdP pushing?" view.

Each ``/scim/v2`` request becomes one row in ``scim_activity`` (time, method, path, status,
duration, request id, credential, and for a refusal its reason: ``scim_logging.current_refusal``).
Recording stays off the request's own work:

- the after_request hook only appends the row to a per-process buffer; a background thread writes
  the buffer every ``SCIM_ACTIVITY_FLUSH_SECONDS`` (0.5 s) in ONE multi-row INSERT, and a request
  that fills ``SCIM_ACTIVITY_BATCH`` rows writes them itself. So a SCIM request costs no database
  round trip for its activity row, and the database sees a few writes per second at most;
- the write runs on an engine of its own (same database, its own small pool), never in a
  request's transaction, so the statement counts of the SCIM routes are unchanged;
- each write also deletes all but the latest ``SCIM_ACTIVITY_KEEP`` rows of authenticated
  requests, and apart from them all but the latest ``SCIM_ACTIVITY_KEEP_ANONYMOUS`` rows of
  unauthenticated ones;
- any failure is written to scim-error.log (with the request ids) and swallowed.

Unauthenticated requests (no credentials, wrong ones, throttled, refused before authentication)
are noise an anonymous client controls: they never get a row each. Each process folds them into
one row per minute and status whose ``requests`` counts them (the row keeps the first request's
method and path and the latest request id), and a write adds to the row of that minute already
in the table. So a flood of anonymous requests stores a few rows a minute, pruned on their own,
and can never evict the IdP's real requests.

The rows of a process reach the table within a flush interval, and at exit (``flush_all``); a
worker killed before its next flush loses at most that much activity (the audit trail and
scim-info.log are the durable record). Readers flush their own process's buffer first. The query
string is not recorded (filters can carry names and emails); the scim-info.log line of the same
request id has the rest.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, Response, current_app
from sqlalchemy.orm import Mapped, mapped_column

from scimgate.db.request_state import current_request, current_state
from scimgate.db.transactions import WRITE_METHODS
from scimgate.extensions import db
from scimgate.logs import scim_logs as scim_logging
from scimgate.models import utcnow

KEEP_DEFAULT = 5000
KEEP_ANONYMOUS_DEFAULT = 500
BATCH_DEFAULT = 500  # a burst valve: normally the thread writes every FLUSH_SECONDS
FLUSH_SECONDS_DEFAULT = 0.5
_BUFFER_KEY = "scimgate_activity_buffer"
PATH_MAX = 500
REASON_MAX = 500
_EXTENSION_KEY = "scimgate_activity_engine"
_engine_lock = threading.Lock()

STATUS_CLASSES = {
    "2xx": (200, 299),
    "3xx": (300, 399),
    "4xx": (400, 499),
    "5xx": (500, 599),
    "errors": (400, 599),
}


class ScimActivity(db.Model):
    """One SCIM request as the provider answered it."""

    __tablename__ = "scim_activity"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    method: Mapped[str] = mapped_column(sa.String(10))
    path: Mapped[str] = mapped_column(sa.String(PATH_MAX))
    status: Mapped[int] = mapped_column(sa.Integer)
    duration_ms: Mapped[float] = mapped_column(sa.Float)
    request_id: Mapped[str] = mapped_column(sa.String(128))
    principal: Mapped[str | None] = mapped_column(sa.String(255))  # None: unauthenticated
    # How many requests the row stands for: 1, or the unauthenticated requests of one minute.
    requests: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")
    # Why a refused request was refused ("409 uniqueness: userName 'x' is ..."), as scim-debug.log
    # has it (bounded, no credential); None for a success.
    reason: Mapped[str | None] = mapped_column(sa.String(REASON_MAX))


def is_scim_path(path: str) -> bool:
    """True for ``/scim/v2`` and everything under it."""
    prefix = scim_logging.SCIM_PATH_PREFIX
    return path == prefix or path.startswith(prefix + "/")


def _engine(app: Flask) -> sa.Engine:
    """The activity engine of this app: the app's database URL and options, its own small pool."""
    engine = app.extensions.get(_EXTENSION_KEY)
    if engine is None:
        with _engine_lock:
            engine = app.extensions.get(_EXTENSION_KEY)
            if engine is None:
                options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
                url = db.engine.url
                if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
                    engine = db.engine  # a private in-memory database exists once per engine
                else:
                    if url.get_backend_name() != "sqlite":
                        options.setdefault("pool_size", 2)
                        options.setdefault("max_overflow", 4)
                    engine = sa.create_engine(url, **options)
                app.extensions[_EXTENSION_KEY] = engine
    return engine


class _Buffer:
    """Rows recorded by this process and not yet written; one per app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.rows: list[dict] = []
        # Unauthenticated requests folded per (minute, status): a few entries, whatever the flood.
        self.anonymous: dict[tuple[dt.datetime, int], dict] = {}
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()  # one flush at a time: a flush returns once written
        self.thread: threading.Thread | None = None

    def add(self, row: dict) -> bool:
        """Queue a row; True when the buffer is full and should be written now."""
        with self.lock:
            self.rows.append(row)
            full = len(self.rows) >= int(self.app.config.get("SCIM_ACTIVITY_BATCH", BATCH_DEFAULT))
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="scim-activity", daemon=True)
                self.thread.start()
        return full

    def add_anonymous(self, row: dict) -> None:
        """Count an unauthenticated request in its minute's row (never a row of its own)."""
        minute = row["at"].replace(second=0, microsecond=0)
        with self.lock:
            folded = self.anonymous.get((minute, row["status"]))
            if folded is None:
                self.anonymous[(minute, row["status"])] = {**row, "at": minute, "requests": 1}
            else:
                folded["requests"] += 1
                folded["request_id"] = row["request_id"]
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="scim-activity", daemon=True)
                self.thread.start()

    def take(self) -> tuple[list[dict], list[dict]]:
        with self.lock:
            rows, self.rows = self.rows, []
            anonymous, self.anonymous = list(self.anonymous.values()), {}
        return rows, anonymous

    def _run(self) -> None:
        interval = float(self.app.config.get("SCIM_ACTIVITY_FLUSH_SECONDS", FLUSH_SECONDS_DEFAULT))
        while True:
            time.sleep(interval)
            with self.app.app_context():
                background_flush(self.app)


# Every app's buffer in this process, so the rows still queued can be written at exit.
_LIVE_BUFFERS: weakref.WeakSet[_Buffer] = weakref.WeakSet()


def _buffer(app: Flask) -> _Buffer:
    buffer = app.extensions.get(_BUFFER_KEY)
    if buffer is None:
        with _engine_lock:
            buffer = app.extensions.get(_BUFFER_KEY)
            if buffer is None:
                buffer = app.extensions[_BUFFER_KEY] = _Buffer(app)
                _LIVE_BUFFERS.add(buffer)
    return buffer


def flush_all() -> int:
    """Write the queued rows of every app of this process; return how many.

    Registered with ``atexit``: a worker that stops gracefully (a deploy, a gunicorn restart)
    keeps the activity of its last half second instead of dropping it.
    """
    written = 0
    for buffer in list(_LIVE_BUFFERS):
        with buffer.app.app_context():
            written += flush(buffer.app)
    return written


atexit.register(flush_all)


def _record(response: Response) -> Response:
    """Queue this SCIM request's row; never let a failure reach the client."""
    current = current_request()
    if current is None:
        return response
    path = current.path
    if not is_scim_path(path):
        return response
    try:
        start = scim_logging.request_started_at()
        state = current_state()
        principal = state.principal if state is not None else None
        method = current.environ.get("REQUEST_METHOD", "")
        row = {
            "at": utcnow(),
            "method": method[:10],
            "path": path[:PATH_MAX],
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - start) * 1000, 2),
            "request_id": scim_logging.current_request_id()[:128],
            "principal": str(principal)[:255] if principal else None,
            "reason": _reason(response.status_code),
        }
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if not principal:
            _buffer(app).add_anonymous(row)
        elif _buffer(app).add(row):
            if current.method in WRITE_METHODS:
                # End a write request's transaction now (teardown would): on SQLite an error
                # answer may still hold the write lock, which our INSERT would wait for.
                db.session.rollback()
            flush(app)
    except Exception as exc:  # the response is already built: log, never fail it
        logging.getLogger(scim_logging.ERROR_LOGGER).error(
            "scim_activity: could not record the request (%s: %s)", type(exc).__name__, exc
        )
    return response


def _reason(status: int) -> str | None:
    """The refusal reason of this request, bounded for its column."""
    reason = scim_logging.current_refusal()
    if reason is None and status >= 400:
        reason = f"{status}"
    return None if reason is None else reason[:REASON_MAX]


def background_flush(app: Flask) -> int:
    """What the background thread runs each interval (a seam of its own, so tests can hold it)."""
    return flush(app)


def flush(app: Flask | None = None) -> int:
    """Write this process's queued rows now (readers call it first); return how many."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    buffer = _buffer(app)
    with buffer.write_lock:
        rows, anonymous = buffer.take()
        if not rows and not anonymous:
            return 0
        return _write_logged(app, rows, anonymous)


def _write_logged(app: Flask, rows: Sequence[dict], anonymous: Sequence[dict]) -> int:
    try:
        write_rows(app, rows, anonymous)
    except Exception as exc:  # never let the activity view break anything else
        ids = ",".join(r["request_id"] for r in [*rows, *anonymous][:20])
        logging.getLogger(scim_logging.ERROR_LOGGER).error(
            "scim_activity: could not record %d requests (%s: %s); request ids %s",
            len(rows) + sum(r["requests"] for r in anonymous),
            type(exc).__name__,
            exc,
            ids,
        )
        return 0
    return len(rows) + sum(r["requests"] for r in anonymous)


def write_rows(app: Flask, rows: Sequence[dict], anonymous: Sequence[dict] = ()) -> None:
    """Insert the authenticated rows in one statement, add the folded unauthenticated counts to
    their minute's rows, and prune each kind to its own latest N."""
    table = ScimActivity.__table__
    with _engine(app).begin() as conn:
        if rows:
            conn.execute(table.insert(), rows)
            _prune(conn, int(app.config.get("SCIM_ACTIVITY_KEEP", KEEP_DEFAULT)), anonymous=False)
        if anonymous:
            for folded in anonymous:
                _add_folded(conn, folded)
            keep = int(app.config.get("SCIM_ACTIVITY_KEEP_ANONYMOUS", KEEP_ANONYMOUS_DEFAULT))
            _prune(conn, keep, anonymous=True)


def _add_folded(conn: sa.Connection, folded: dict) -> None:
    """Add a minute's unauthenticated count to that minute's row, or insert the row."""
    table = ScimActivity.__table__
    same_minute = sa.and_(
        table.c.principal.is_(None), table.c.at == folded["at"], table.c.status == folded["status"]
    )
    updated = conn.execute(
        table.update()
        .where(same_minute)
        .values(requests=table.c.requests + folded["requests"], request_id=folded["request_id"])
    )
    if not updated.rowcount:
        conn.execute(table.insert(), [folded])


def _prune(conn: sa.Connection, keep: int, *, anonymous: bool) -> None:
    """Delete all but the newest ``keep`` rows of one kind (the other kind is never touched)."""
    table = ScimActivity.__table__
    kind = table.c.principal.is_(None) if anonymous else table.c.principal.is_not(None)
    oldest_kept = conn.execute(
        sa.select(table.c.id).where(kind).order_by(table.c.id.desc()).offset(max(keep, 1) - 1).limit(1)
    ).scalar()
    if oldest_kept is not None:
        conn.execute(table.delete().where(kind, table.c.id < oldest_kept))


def init_app(app: Flask) -> None:
    """Record every /scim/v2 request of this app (its start time is the one scim_logging keeps)."""
    app.after_request(_record)


# --- reading (the SCIM activity page) -------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """At a glance: the latest request and how the last 24 hours went."""

    last: ScimActivity | None
    last_ok: ScimActivity | None
    day_total: int
    day_failed: int


def status_range(name: str) -> tuple[int, int] | None:
    """The status range of a filter name (``2xx`` ... ``5xx``, ``errors``), else None."""
    return STATUS_CLASSES.get(name)


def _flush_for_reading() -> None:
    """Write this process's buffer, then always start a fresh read snapshot.

    The request's read transaction began with its first query (the sign-in check), and SQLite
    keeps that snapshot: rows the background thread wrote since (``flush`` then finds none to
    write) or another worker wrote would stay invisible. Only GET pages call this, so the commit
    ends a read-only transaction; loaded objects stay as they are.
    """
    flush()
    db.session.commit()


CREDENTIAL_FILTERS = ("authenticated", "unauthenticated")


def latest(
    limit: int = 100, before_id: int | None = None, conditions: Sequence[sa.ColumnElement[bool]] = ()
) -> list[ScimActivity]:
    """The newest requests first that meet ``conditions`` (the activity page's filters,
    ``scimgate.web.admin.activity_filters``), older than ``before_id``."""
    _flush_for_reading()
    statement = sa.select(ScimActivity).where(*conditions).order_by(ScimActivity.id.desc()).limit(limit)
    if before_id is not None:
        statement = statement.where(ScimActivity.id < before_id)
    return list(db.session.scalars(statement))


def summary(now: dt.datetime | None = None) -> Summary:
    """The newest request, the newest successful one, and the last day's totals."""
    _flush_for_reading()
    since = (now or utcnow()) - dt.timedelta(days=1)
    newest = sa.select(ScimActivity).order_by(ScimActivity.id.desc()).limit(1)
    total, failed = db.session.execute(
        sa.select(
            sa.func.sum(ScimActivity.requests),
            sa.func.sum(ScimActivity.requests).filter(ScimActivity.status >= 400),
        ).where(ScimActivity.at >= since)
    ).one()
    return Summary(
        last=db.session.scalars(newest).first(),
        last_ok=db.session.scalars(newest.where(ScimActivity.status < 400)).first(),
        day_total=total or 0,
        day_failed=failed or 0,
    )


@dataclass(frozen=True)
class Connection:
    """When the IdP last reached us, and how: the set-up assistant's connection indicator.

    ``last_ok``: the newest authenticated request that succeeded; ``last_failure``: the newest
    authenticated one refused (with its reason); ``last_auth_failure``: the newest request refused
    before authentication (a wrong or expired token shows here first).
    """

    last_ok: ScimActivity | None
    last_failure: ScimActivity | None
    last_auth_failure: ScimActivity | None


def connection(flush_first: bool = True) -> Connection:
    """The three newest rows of the indicator, in ONE statement (three primary-key scans).

    ``flush_first=False`` skips writing this process's queued rows: a write request (a form
    POST) holds SQLite's write lock, which the flush on the activity engine would wait for.
    """
    if flush_first:
        _flush_for_reading()
    table = ScimActivity.__table__
    kinds = {
        "ok": sa.and_(table.c.principal.is_not(None), table.c.status < 400),
        "failure": sa.and_(table.c.principal.is_not(None), table.c.status >= 400),
        "auth_failure": table.c.principal.is_(None),
    }
    parts = [
        sa.select(sa.literal(kind).label("kind"), table.c.id)
        .where(condition)
        .order_by(table.c.id.desc())
        .limit(1)
        .subquery()
        for kind, condition in kinds.items()
    ]
    newest = sa.union_all(*(sa.select(part.c.kind, part.c.id) for part in parts)).subquery()
    rows = db.session.execute(
        sa.select(newest.c.kind, ScimActivity).join(ScimActivity, ScimActivity.id == newest.c.id)
    ).all()
    found = {kind: row for kind, row in rows}
    return Connection(found.get("ok"), found.get("failure"), found.get("auth_failure"))
