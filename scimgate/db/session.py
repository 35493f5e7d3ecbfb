"""The ORM session class: one connection per request, shared with ``db.connection.get_connection``.

Why a session class of our own, measured with ``bench/inproc.py`` (CPU per request, SQLite, the
same machine, runs alternated with the code before):

- The ORM session's transaction bookkeeping (a ``SessionTransaction`` per transaction, binding it
  to a connection, its commit and close steps) costs every SCIM request although the hot paths
  run only prebuilt Core statements. With the stock session and ``db.session.connection()`` as the
  request's connection: users.get 0.337 -> 0.380 ms (+13 %), users.patch_active 0.746 -> 0.835 ms
  (+12 %), users.create 0.657 -> 0.781 ms. So the request's statements run on one SQLAlchemy
  ``Connection`` that this session holds; ``get_connection()`` begins a transaction on it
  directly, and the ORM, when a request uses it (admin pages, accounts), joins that same
  transaction (``join_transaction_mode="control_fully"``). There is exactly one connection and
  one transaction per request, and ``commit``/``rollback``/``close`` of the session end it
  whichever side began it, so every caller keeps writing ``db.session.commit()``.
- A connection stays with its thread between requests (``_IdleConnection``) instead of going
  back to the pool: a checkout and check-in per request cost users.get 0.30 -> 0.37-0.39 ms
  (+20-25 %), users.create 0.64 -> 0.74 ms on SQLite (a LIFO pool did not help: 0.36 ms), and on
  PostgreSQL users.get 0.59-0.65 -> 0.55 ms, users.patch_active 1.54-1.60 -> 1.29-1.49 ms (issue
  19). A kept PostgreSQL connection is looked at before each request without a round trip
  (``scimgate.db.liveness``: one the server ended is dropped, and the request gets a new one), and
  goes back to the pool after ``KEEP_SECONDS`` so the pool's ``pool_recycle`` still applies.

When the session closes (Flask-SQLAlchemy closes it when the app context ends) an open
transaction is rolled back.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from typing import Any

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from scimgate.db.liveness import idle_connection_is_closed

_LOG = logging.getLogger(__name__)
# A kept connection goes back to the pool this often, where ``pool_recycle`` and the checkout's
# liveness look (``scimgate.db.liveness.check_out``) apply to it.
KEEP_SECONDS = 60.0
_CHECKED_OUT_AT = "scimgate_checked_out_at"  # in Connection.info: when it last left the pool


class _IdleConnection:
    """A thread's database connection between two requests (see the module docstring).

    It goes back to the pool when another engine's connection replaces it, when it has been kept
    ``KEEP_SECONDS``, or when its thread ends (this object is dropped with the thread's locals),
    never left for the garbage collector. It is not used again after ``Engine.dispose()`` (a new
    pool) or in a forked child process (no driver may carry a connection across ``fork``).
    """

    connection: Connection | None = None
    pool: Any = None
    pid = 0

    def take(self, engine: Engine) -> Connection | None:
        """The kept connection when it belongs to ``engine``'s current pool and is usable."""
        connection, self.connection = self.connection, None
        if connection is None:
            return None
        if self.pid != os.getpid():
            return None  # the parent's: leave it alone
        if (
            connection.engine is engine
            and self.pool is engine.pool
            and not connection.closed
            and not connection.invalidated
            and time.monotonic() - connection.info.get(_CHECKED_OUT_AT, 0.0) < KEEP_SECONDS
        ):
            if not idle_connection_is_closed(connection.connection.dbapi_connection):
                return connection
            _LOG.info("a kept database connection was ended by the server: replaced")
            connection.invalidate()
        connection.close()
        return None

    def keep(self, connection: Connection) -> None:
        """Keep ``connection`` for this thread's next request (closing any other one kept)."""
        previous = self.connection
        self.connection, self.pool, self.pid = connection, connection.engine.pool, os.getpid()
        if previous is not None and previous is not connection:
            previous.close()

    def __del__(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and self.pid == os.getpid():
            with contextlib.suppress(Exception):  # at thread or interpreter exit nothing more can be done
                connection.close()


class _PerThread(threading.local):
    def __init__(self) -> None:
        self.idle = _IdleConnection()


_THREAD = _PerThread()


def release_kept_connection() -> None:
    """Give this thread's kept connection back to the pool now.

    Run at interpreter exit for the main thread: left to the garbage collector, a PostgreSQL
    connection would be reset after psycopg's modules are already torn down.
    """
    idle = _THREAD.idle
    connection, idle.connection = idle.connection, None
    if connection is not None and idle.pid == os.getpid():
        with contextlib.suppress(Exception):  # nothing more can be done at exit
            connection.close()


atexit.register(release_kept_connection)


def _keeps_between_requests(connection: Connection) -> bool:
    """A usable connection stays with its thread between requests (see the module docstring)."""
    return not connection.invalidated and not connection.closed


def _driver_in_transaction(driver: Any) -> bool:
    """True when the driver connection has a transaction open (sqlite3 and psycopg say it differently)."""
    info = getattr(driver, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is not None:
        return int(status) != 0  # psycopg.pq.TransactionStatus.IDLE
    return bool(getattr(driver, "in_transaction", False))


def roll_back(connection: Connection) -> None:
    """Roll back ``connection``'s transaction, also one whose COMMIT failed.

    A failed COMMIT (a full disk, a deferred constraint) leaves SQLAlchemy's transaction inactive
    but still the connection's, so the connection refuses to begin another until it is rolled
    back; and that rollback does not reach the driver, where the transaction may still be open
    (SQLite keeps it, with its write lock). So the driver is rolled back too.
    """
    transaction = connection.get_transaction()
    if transaction is None:
        return
    failed_commit = not transaction.is_active
    connection.rollback()
    if failed_commit and not connection.invalidated:
        connection.connection.dbapi_connection.rollback()  # type: ignore[union-attr]


class RequestSession(FlaskSession):
    """A session that holds ONE connection for its whole life (see the module docstring)."""

    _held: Connection | None = None

    def held_connection(self) -> Connection:
        """This session's connection to the default engine, checked out on first use."""
        held = self._held
        if held is None or held.closed:
            engine = super().get_bind()
            if not isinstance(engine, Engine):  # pragma: no cover - a session bound to a Connection
                raise TypeError("RequestSession needs an Engine bind")
            held = _THREAD.idle.take(engine)
            if held is None:
                held = engine.connect()
                held.info[_CHECKED_OUT_AT] = time.monotonic()
            self._held = held
        return held

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any) -> Any:
        """The held connection wherever the ORM would use the default engine."""
        resolved = super().get_bind(mapper, clause, bind, **kwargs)
        if isinstance(resolved, Engine) and resolved is super().get_bind():
            held = self.held_connection()
            if held.engine is resolved:
                return held
        return resolved

    def commit(self) -> None:
        """Commit the request's transaction, begun by the ORM or by ``get_connection()``."""
        if self.in_transaction():
            super().commit()  # commits the held connection's transaction when the ORM joined it
        held = self._held
        if held is not None and held.in_transaction():
            held.commit()

    def rollback(self) -> None:
        """Roll back the request's transaction, begun by the ORM or by ``get_connection()``.

        Also a transaction whose COMMIT failed (e.g. a full disk): it is no longer active but
        still the connection's, and the connection refuses to begin another until it is cleared.
        """
        super().rollback()
        held = self._held
        if held is not None:
            roll_back(held)

    def close(self) -> None:
        """End the session and let its connection go (rolling back what is open).

        A connection that died under the open transaction (the database restarted after the
        request's last statement) cannot be rolled back: it is dropped instead, as the pool
        does, since the server has already rolled that transaction back. Raising here, at the
        end of a request whose response is built, would turn it into a 500.
        """
        try:
            if self.in_transaction() or self.identity_map or self.new or self.deleted:
                try:
                    super().close()  # with nothing begun or tracked there is nothing to close
                except DBAPIError:
                    _LOG.warning("a request's connection was lost before its rollback: dropped")
                    super().invalidate()
        finally:
            self._release()

    def reset(self) -> None:
        """Like ``close``; the session stays usable (it is always usable)."""
        try:
            super().reset()
        finally:
            self._release()

    def invalidate(self) -> None:
        """Close with the connection invalidated (it is not returned to the pool for reuse)."""
        held = self._held
        try:
            super().invalidate()
            if held is not None and not held.closed:
                held.invalidate()
        finally:
            self._release()

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        try:
            if not held.invalidated:
                roll_back(held)
            if _keeps_between_requests(held):
                # What the pool's reset on return would guarantee: no transaction left open, down
                # to the driver (one begun behind SQLAlchemy's back would hold SQLite's lock).
                driver = held.connection.dbapi_connection
                if _driver_in_transaction(driver):
                    driver.rollback()  # type: ignore[union-attr]
                _THREAD.idle.keep(held)
                return
        except Exception:
            # As the pool does when a connection cannot be reset on return: drop it, say why.
            _LOG.error("a request's connection could not be reset: dropped", exc_info=True)
            if not held.invalidated:
                held.invalidate()
        held.close()
