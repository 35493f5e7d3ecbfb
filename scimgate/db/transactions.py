"""Per-connection database settings and transaction retries.

SQLite enforces foreign keys (and so ``ON DELETE CASCADE``) only when asked on each connection;
WAL lets readers proceed during a write, and the busy timeout makes a writer wait for the lock
instead of failing with "database is locked". Write requests open their SQLite transaction with
``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes fails at once (no
waiting) when another process wrote in between, which would surface as an error under load.
After a SCIM write request's one commit, its remaining reads use a plain ``BEGIN``.

On PostgreSQL, deadlocks and serialization failures are retried by ``retry_transaction`` so a
client never sees them. A SCIM request's reads that are not part of a write (a GET, a search, the
reads after a write's commit) run without a transaction (psycopg's autocommit): psycopg sends
``BEGIN`` as a round trip of its own and the request's end a ``ROLLBACK``, two of the four round
trips of a GET by id (measured through ``tests/support/round_trips.py``: 4 -> 2). Under
PostgreSQL's READ COMMITTED each statement takes its own snapshot inside a transaction too, so
nothing a read sees changes; a statement that needs a transaction (a server-side cursor) gets one
(``_before_execute``). A write request's credential check reads that way too (``before_the_write``),
so its transaction begins at its first write; a write that is one statement needs none
(``one_statement_write``).
"""

from __future__ import annotations

import functools
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import Pool

from scimgate.db import liveness, metrics
from scimgate.db.connection import get_connection
from scimgate.db.request_state import RequestState, ScimgateRequest, current_request, current_state
from scimgate.extensions import db
from scimgate.scim.errors import ScimError

SQLITE_BUSY_TIMEOUT_MS = 15_000
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# scim-info.log's logger: ``scimgate.logs.scim_logs`` routes it to the app's file (logs sits above
# db, so the retry line goes through ``logging`` by the logger's name).
RETRY_LOGGER = logging.getLogger("scimgate.scim.info")
# Ten contenders for one row (an IdP pushing members of one group in parallel) can make a request
# lose several times in a row under SERIALIZABLE; ten attempts with capped exponential backoff
# (at most about 8 s of waiting in all) keep that a retry, never a 503.
RETRY_ATTEMPTS = 10
RETRY_BACKOFF_DOUBLINGS = 5
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
# What the retry line and metric say for a ``WriteConflict`` (no SQLSTATE: the row's version moved).
VERSION_CONFLICT = "version"
IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: no transaction open on the connection
# Set in a pooled connection's ``info`` while scimgate runs its reads in autocommit (module docstring).
READS_IN_AUTOCOMMIT = "scimgate_reads_in_autocommit"
_installed = False

P = ParamSpec("P")
R = TypeVar("R")


def _is_sqlite(dbapi_connection: Any) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    if not _is_sqlite(dbapi_connection):
        return
    dbapi_connection.isolation_level = None  # scimgate emits BEGIN itself (see _on_begin)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def create_sqlite_file_owner_only(url: str) -> None:
    """Create a new SQLite database file readable by its owner only (0600), whatever the umask.

    The file holds password and token hashes and the token pepper; SQLite would create it 0644
    (less the umask). An empty file is an empty database, and SQLite gives the -wal and -shm it
    creates beside it the database file's permissions. An existing file is left as it is.
    """
    parsed = sa.engine.make_url(url)
    path = parsed.database
    if (
        parsed.get_backend_name() != "sqlite"
        or not path
        or path == ":memory:"
        or path.startswith("file:")
        or parsed.query.get("uri") == "true"
    ):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    except OSError:
        return  # e.g. a read-only directory: SQLite reports it, clearly, on the first connection
    os.chmod(path, 0o600)  # the umask may have taken bits away, never added: this is exact


def _takes_write_lock() -> bool:
    """Write requests, work outside a request (CLI, set-up) and ``write_transaction`` blocks
    lock the database up front.

    A SCIM write request commits once, in its service; what it reads afterwards (a group's
    members for the response, the 204 decision) runs in a plain read transaction, so it does not
    queue for the write lock a second time behind the other workers' writes.
    """
    current = current_request()
    if current is None:
        return True
    state = current.state if isinstance(current, ScimgateRequest) else None
    if state is None or state.write_lock:
        return True
    return current.method in WRITE_METHODS and not state.committed_scim_write


def _on_commit(connection: Connection) -> None:
    """Remember that this request sent a COMMIT (runs just before it is sent).

    A connection lost from then on leaves the outcome unknown (``scimgate.api.db_faults`` says
    so in its 503). For a SCIM request it also means its write is committed (see ``_takes_write_lock``):
    only SQLite's ``BEGIN`` reads that flag, and SQLite transactions are never retried (a lock
    timeout is 503 at once), so a retried view never starts with it set.
    """
    state = current_state()
    if state is not None:
        state.commit_sent = True
        if state.is_scim:
            state.committed_scim_write = True


def commit_was_sent() -> bool:
    """True when the current request sent a COMMIT (its outcome is unknown if the link then broke)."""
    state = current_state()
    return state is not None and state.commit_sent


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run a block that writes, inside a read-only request (e.g. recording a failed login), in a
    transaction of its own that takes SQLite's write lock up front."""
    db.session.rollback()
    state = current_state() or RequestState(is_scim=False)  # outside a request BEGIN locks anyway
    previous = state.write_lock
    state.write_lock = True
    try:
        yield
    finally:
        db.session.rollback()
        state.write_lock = previous


def _reads_without_transaction() -> bool:
    """A SCIM request's reads outside any write run in autocommit on PostgreSQL (module docstring)."""
    current = current_request()
    state = current.state if isinstance(current, ScimgateRequest) else None
    return state is not None and state.is_scim and not _takes_write_lock()


def _on_begin(connection: Connection) -> None:
    # Straight to the driver: this runs at the start of every request's transaction.
    driver: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite":
        cursor = driver.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE" if _takes_write_lock() else "BEGIN")
        finally:
            cursor.close()
    elif connection.dialect.driver == "psycopg" and driver.info.transaction_status == IDLE:
        # No round trip: psycopg reads the flag when it would send BEGIN before a statement. Only
        # a flag set here is cleared here (an engine made with AUTOCOMMIT keeps its own).
        info = connection.connection.info
        if _reads_without_transaction():
            if not driver.autocommit:
                driver.autocommit = info[READS_IN_AUTOCOMMIT] = True
        elif info.pop(READS_IN_AUTOCOMMIT, False):
            driver.autocommit = False


def _idle_psycopg_driver(connection: Connection) -> Any:
    """The psycopg connection under ``connection`` when it has no transaction open (nothing sent
    yet, or in autocommit), else None (SQLite, or a transaction already begun)."""
    if connection.dialect.driver != "psycopg" or connection.invalidated:
        return None
    driver: Any = connection.connection.dbapi_connection
    return driver if driver.info.transaction_status == IDLE else None


def before_the_write(read: Callable[[], R]) -> R:
    """Return ``read()``, run without opening the write's transaction yet (PostgreSQL).

    A write request's first statement is the configuration token read of its credential check
    (``scimgate.conf.store``); with it psycopg would send ``BEGIN`` there. Run in autocommit it
    sees what it would see inside (READ COMMITTED gives every statement its own snapshot, and it
    locks nothing), and the transaction begins at the write's first statement instead, so a
    write that is one statement (``one_statement_write``) needs no transaction at all. Inside an
    open transaction (a writer re-reading its own change) the read stays in it; on SQLite (whose
    ``BEGIN IMMEDIATE`` takes the write lock up front) nothing changes. A function, not a context
    manager: it runs on every request, and SQLite's path is one check (``bench/inproc.py``: the
    generator-based context manager cost a GET 2-3 %).
    """
    connection = get_connection()
    driver = _idle_psycopg_driver(connection)
    if driver is None or driver.autocommit:
        return read()
    driver.autocommit = True
    try:
        return read()
    finally:
        if not connection.invalidated and driver.info.transaction_status == IDLE:
            driver.autocommit = False


@contextmanager
def one_statement_write() -> Iterator[None]:
    """Run the block's one statement, the whole of a write, as its own transaction (PostgreSQL).

    A statement is atomic by itself, so when no transaction is open yet it runs in autocommit:
    no ``BEGIN`` and no ``COMMIT`` round trips (``services.user_writes`` creates a user, its
    profile, its SCIM link and the audit event in one statement). The request's ``commit`` then
    has nothing to send. The request counts as having sent a COMMIT while the statement runs: a
    link lost then leaves the outcome unknown (``commit_was_sent``); a statement the server
    refused committed nothing, so that is taken back. Inside an open transaction, and on SQLite,
    the block simply runs in it, committed with the rest.
    """
    connection = get_connection()
    driver = _idle_psycopg_driver(connection)
    if driver is None:
        yield
        return
    state = current_state()
    sent_before = state.commit_sent if state is not None else False
    if state is not None:
        state.commit_sent = True
    was_autocommit = driver.autocommit
    driver.autocommit = True
    try:
        yield
    except DBAPIError:
        if state is not None and not connection.invalidated:
            state.commit_sent = sent_before  # the server answered: nothing was committed
        raise
    finally:
        if not was_autocommit and not connection.invalidated and driver.info.transaction_status == IDLE:
            driver.autocommit = False


def _before_execute(connection: Connection, cursor: Any, statement: Any, *args: Any) -> None:
    """A streamed read (a server-side cursor) needs a transaction: psycopg sends BEGIN first."""
    context = args[-2]
    if (
        context is not None
        and context.execution_options.get("stream_results")
        and connection.connection.info.pop(READS_IN_AUTOCOMMIT, False)
    ):
        connection.connection.dbapi_connection.autocommit = False  # type: ignore[union-attr]


def install() -> None:
    """Register the connection hooks once per process, for every engine scimgate creates."""
    global _installed
    if not _installed:
        sa.event.listen(Engine, "connect", _on_connect)
        sa.event.listen(Engine, "begin", _on_begin)
        sa.event.listen(Engine, "commit", _on_commit)
        sa.event.listen(Engine, "before_cursor_execute", _before_execute)
        sa.event.listen(Pool, "checkout", liveness.check_out)
        _installed = True


def is_retryable(error: DBAPIError) -> bool:
    """True for a deadlock or serialization failure (PostgreSQL), worth running again at once."""
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def is_lock_timeout(error: DBAPIError) -> bool:
    """True when SQLite's busy timeout ran out: the writer already waited, so answer 503."""
    return "database is locked" in str(error.orig)


def _busy(retry_after: str) -> ScimError:
    """The 503 for a database too contended to finish the request now (counted)."""
    metrics.count_db_error("database_busy")
    headers = {"Retry-After": retry_after}
    return ScimError("The database is busy; retry the request.", status=503, headers=headers)


class WriteConflict(Exception):
    """An optimistic write found its row changed since it was read, and wrote nothing.

    ``retry_transaction`` runs the request again at once, and counts the conflict in its
    ``RequestState`` so the writer reads under the row lock the second time
    (``services.user_writes.read_for_update``).
    """


def retry_transaction(view: Callable[P, R]) -> Callable[P, R]:
    """Run a request's transaction again after a transient conflict, with jittered backoff
    (a ``WriteConflict`` at once: its next attempt waits for the row lock instead).

    The request body is cached by Flask, so the whole view can run again from scratch. After
    the last attempt the client gets 503 with ``Retry-After`` (a SCIM error), never a 500.
    """

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(RETRY_ATTEMPTS):
            try:
                return view(*args, **kwargs)
            except WriteConflict as conflict:
                db.session.rollback()
                state = current_state()
                if state is not None:
                    state.write_conflicts += 1
                RETRY_LOGGER.info("db.retry attempt=%d sqlstate=%s", attempt + 1, VERSION_CONFLICT)
                if attempt == RETRY_ATTEMPTS - 1:
                    raise _busy("1") from conflict
                metrics.count_serialization_retry(VERSION_CONFLICT)
            except DBAPIError as error:
                db.session.rollback()
                if is_lock_timeout(error):
                    raise _busy("2") from error
                if not is_retryable(error):
                    raise
                sqlstate = getattr(error.orig, "sqlstate", None)
                RETRY_LOGGER.info("db.retry attempt=%d sqlstate=%s", attempt + 1, sqlstate or "null")
                if attempt == RETRY_ATTEMPTS - 1:
                    raise _busy("1") from error
                metrics.count_serialization_retry(sqlstate or "null")
                time.sleep(random.uniform(0.01, 0.05) * (2 ** min(attempt, RETRY_BACKOFF_DOUBLINGS)))
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper
