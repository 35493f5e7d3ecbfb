"""Recent SCIM provisioning requests, shared by every process: the admin's "is the IdP pushing?" view.

Each ``/scim/v2`` request gets one row in ``scim_activity`` (time, method, path, status,
duration, request id, credential), written by an ``after_request`` hook once the response is
built. The write is kept off the request's own work:

- it runs on an engine of its own (same database, its own small pool), so it never joins,
  extends or waits for the request's transaction (a write request's session is rolled back
  first, as teardown would), and the statement counts of the SCIM routes are unchanged;
- it is one INSERT; every ``SCIM_ACTIVITY_PRUNE_EVERY``-th row also deletes the rows older than
  the latest ``SCIM_ACTIVITY_KEEP`` (one indexed range DELETE), so the table stays bounded;
- any failure is written to scim-error.log and swallowed: the SCIM response is sent unchanged.

The query string is not recorded (filters can carry names and emails); the scim-info.log line of
the same request id has the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request
from sqlalchemy.orm import Mapped, mapped_column

from scimgate import scim_logging
from scimgate.database import WRITE_METHODS
from scimgate.extensions import db
from scimgate.models import utcnow

KEEP_DEFAULT = 5000
PRUNE_EVERY_DEFAULT = 100
PATH_MAX = 500
_ENVIRON_START = "scimgate.activity_start"
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
    principal: Mapped[str | None] = mapped_column(sa.String(255))


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


def _start() -> None:
    if is_scim_path(request.path):
        request.environ[_ENVIRON_START] = time.perf_counter()


def _record(response: Response) -> Response:
    """Write this SCIM request's row; never let a failure reach the client."""
    if not is_scim_path(request.path):
        return response
    try:
        start = request.environ.get(_ENVIRON_START, time.perf_counter())
        row = {
            "at": utcnow(),
            "method": request.method[:10],
            "path": request.path[:PATH_MAX],
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - start) * 1000, 2),
            "request_id": scim_logging.current_request_id()[:128],
            "principal": (str(g.get("scim_principal")) if g.get("scim_principal") else None),
        }
        if request.method in WRITE_METHODS:
            # End a write request's transaction now (teardown would): on SQLite an error answer
            # may leave its write lock held, which our INSERT would wait for. A GET keeps its
            # snapshot: a streamed body may still read through it.
            db.session.rollback()
        record(row)
    except Exception as exc:  # the response is already built: log, never fail it
        logging.getLogger(scim_logging.ERROR_LOGGER).error(
            "scim_activity: could not record the request (%s: %s)", type(exc).__name__, exc
        )
    return response


def record(row: dict) -> int:
    """Insert one row (and every PRUNE_EVERY-th time, prune); return its id."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    keep = int(app.config.get("SCIM_ACTIVITY_KEEP", KEEP_DEFAULT))
    every = max(1, int(app.config.get("SCIM_ACTIVITY_PRUNE_EVERY", PRUNE_EVERY_DEFAULT)))
    table = ScimActivity.__table__
    with _engine(app).begin() as conn:
        new_id = conn.execute(table.insert().values(**row).returning(table.c.id)).scalar_one()
        if new_id % every == 0:
            conn.execute(table.delete().where(table.c.id <= new_id - keep))
    return new_id


def init_app(app: Flask) -> None:
    """Record every /scim/v2 request of this app."""
    app.before_request(_start)
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


def latest(status: str = "", limit: int = 100, before_id: int | None = None) -> list[ScimActivity]:
    """The newest requests first, optionally of one status class and older than ``before_id``."""
    statement = sa.select(ScimActivity).order_by(ScimActivity.id.desc()).limit(limit)
    bounds = status_range(status)
    if bounds:
        statement = statement.where(ScimActivity.status.between(*bounds))
    if before_id is not None:
        statement = statement.where(ScimActivity.id < before_id)
    return list(db.session.scalars(statement))


def summary(now: dt.datetime | None = None) -> Summary:
    """The newest request, the newest successful one, and the last day's totals."""
    since = (now or utcnow()) - dt.timedelta(days=1)
    newest = sa.select(ScimActivity).order_by(ScimActivity.id.desc()).limit(1)
    total, failed = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count().filter(ScimActivity.status >= 400),
        ).where(ScimActivity.at >= since)
    ).one()
    return Summary(
        last=db.session.scalars(newest).first(),
        last_ok=db.session.scalars(newest.where(ScimActivity.status < 400)).first(),
        day_total=total or 0,
        day_failed=failed or 0,
    )
