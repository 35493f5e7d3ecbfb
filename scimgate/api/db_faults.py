"""Database failures that are the database's state, not a bug: answered 503 or 507, never 500.

``classify`` recognises them: the database cannot be reached or went away mid-request (PostgreSQL
down, restarting, crashed, out of connections; the pool's wait for a free connection ran out),
SQLite's write lock not obtained within its busy timeout, and a full disk (SQLite "database or
disk is full", PostgreSQL ``disk_full``). Anything else (a constraint, a bad statement) is not
classified and stays a logged 500.

- 507 Insufficient Storage, ``Retry-After: 60``, for a full disk: the failed transaction was not
  saved (SQLite and PostgreSQL both refuse a transaction whose pages cannot be written). Reads
  keep working; writes succeed again once there is space.
- 503 Service Unavailable, ``Retry-After``, for everything else above.

Nothing is retried inside the server: a failure while connecting is answered at once (the pool's
pre-ping already replaced a connection that broke while idle), so workers do not pile up
requests while the database is down. A connection lost after this request sent a COMMIT is
ambiguous: the change may have been saved, and the answer (still 503) says so
(``scimgate.db.transactions.commit_was_sent``).

It lives beside the SCIM error handler (``scimgate.api.errors``), the app-wide handler of what
no blueprint handled, which asks it first.

``respond`` renders a fault outside the SCIM API: the JSON API's error shape under ``/api/``,
the probes' ``{"status": ...}``, and the site's error page elsewhere (rendered without looking
up the signed-in account, which would need the database).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Response, g, jsonify, render_template, request

from scimgate.db import metrics
from scimgate.db.transactions import commit_was_sent
from scimgate.logs import scim_logs as scim_logging
from scimgate.scim.errors import ScimError

UNAVAILABLE_RETRY_AFTER = 5
BUSY_RETRY_AFTER = 2
DISK_FULL_RETRY_AFTER = 60

# PostgreSQL SQLSTATEs of a database that cannot serve now (beside class 08, connection exceptions).
_PG_DISK_FULL = "53100"
_PG_UNAVAILABLE_PREFIXES = ("08", "53", "57P")  # connection, insufficient resources, shutdown/starting
_PG_BUSY = frozenset({"40001", "40P01", "55P03", "57014"})  # serialization, deadlock, lock, timeout
_SQLITE_FULL = sqlite3.SQLITE_FULL
_SQLITE_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_SQLITE_UNAVAILABLE = frozenset(
    {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY}
)

_UNAVAILABLE = (
    "The database is unavailable; nothing was changed. Retry the request after Retry-After seconds."
)
_AMBIGUOUS = (
    "The database connection failed after the change was sent for commit: it may or may not have "
    "been saved. Read the resource before retrying (a repeated create answers 409 if it was saved)."
)
_BUSY = "The database is busy; retry the request."
_DISK_FULL = (
    "The database's disk is full: this change was not saved. Reads still work; retry once an "
    "administrator has freed disk space."
)

# What a page says instead of the API's detail (a person reads it, not a client that retries).
_PAGES = {
    _UNAVAILABLE: (
        "Temporarily unavailable",
        "The database is unavailable at the moment, so nothing was changed. Try again in a few seconds.",
    ),
    _BUSY: (
        "Temporarily unavailable",
        "The database is busy, so nothing was changed. Try again in a few seconds.",
    ),
    _DISK_FULL: (
        "Disk full",
        "The server's disk is full, so this change was not saved. Pages that only show data still "
        "work; an administrator must free disk space.",
    ),
}


@dataclass(frozen=True)
class Fault:
    """How to answer a database failure: status, seconds to wait, and what to tell the client."""

    status: int
    retry_after: int
    code: str  # the JSON API's error code
    detail: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def scim_error(self) -> ScimError:
        """The RFC 7644 §3.12 error of this fault."""
        return ScimError(self.detail, status=self.status, headers=self.headers)


def _unavailable() -> Fault:
    detail = _AMBIGUOUS if commit_was_sent() else _UNAVAILABLE
    return Fault(503, UNAVAILABLE_RETRY_AFTER, "database_unavailable", detail)


def _sqlite_fault(orig: sqlite3.Error) -> Fault | None:
    primary = getattr(orig, "sqlite_errorcode", -1) & 0xFF
    if primary == _SQLITE_FULL:
        return Fault(507, DISK_FULL_RETRY_AFTER, "disk_full", _DISK_FULL)
    if primary in _SQLITE_BUSY:
        return Fault(503, BUSY_RETRY_AFTER, "database_busy", _BUSY)
    if primary in _SQLITE_UNAVAILABLE:
        return _unavailable()
    return None


def _driver_fault(error: sa.exc.DBAPIError) -> Fault | None:
    orig = error.orig
    if isinstance(orig, sqlite3.Error):
        return _sqlite_fault(orig)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == _PG_DISK_FULL:
        return Fault(507, DISK_FULL_RETRY_AFTER, "disk_full", _DISK_FULL)
    if sqlstate in _PG_BUSY:
        return Fault(503, BUSY_RETRY_AFTER, "database_busy", _BUSY)
    if error.connection_invalidated or (sqlstate and sqlstate.startswith(_PG_UNAVAILABLE_PREFIXES)):
        return _unavailable()
    if sqlstate is None and isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError):
        return _unavailable()  # the driver's own connection errors carry no SQLSTATE
    return None


def classify(error: BaseException) -> Fault | None:
    """The fault ``error`` stands for, or None when it is not the database's state."""
    if isinstance(error, sa.exc.DBAPIError):
        return _driver_fault(error)
    if isinstance(error, sa.exc.TimeoutError):  # no pooled connection became free in time
        return Fault(503, BUSY_RETRY_AFTER, "database_busy", _BUSY)
    return None


def log(fault: Fault, error: BaseException) -> None:
    """One line in scim-error.log: what failed and what the client was told (no traceback); counted
    in ``scimgate_db_errors_total``."""
    metrics.count_db_error(fault.code)
    where = f"{request.method} {request.path}"
    first_line = str(getattr(error, "orig", None) or error).strip().splitlines()[:1]
    logging.getLogger(scim_logging.ERROR_LOGGER).error(
        "database %s during %s: %s: %s; answered %d",
        fault.code,
        where,
        type(getattr(error, "orig", None) or error).__name__,
        first_line[0] if first_line else "",
        fault.status,
    )


def respond(fault: Fault) -> Response:
    """The answer to a fault outside the SCIM API (the SCIM API renders ``fault.scim_error()``)."""
    path = request.path
    if path.startswith("/api/"):
        response = jsonify({"error": fault.code, "detail": fault.detail})
    elif path in ("/healthz", "/readyz"):
        response = jsonify({"status": "unavailable"})
    else:
        g.scimgate_account = None  # the layout must not ask the database who is signed in
        title, message = _PAGES.get(fault.detail, ("Temporarily unavailable", fault.detail))
        response = Response(render_template("error.html", title=title, message=message, status=fault.status))
    response.status_code = fault.status
    response.headers.update(fault.headers)
    return response
