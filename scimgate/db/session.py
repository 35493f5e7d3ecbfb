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
- A SQLite connection stays with its thread between requests (``_IdleConnection``) instead of
  going back to the pool: a checkout and check-in per request cost users.get 0.30 -> 0.37-0.39 ms
  (+20-25 %), users.create 0.64 -> 0.74 ms (a LIFO pool did not help: 0.36 ms). Other databases'
  connections go back to the pool, whose checkout pings them.

When the session closes (Flask-SQLAlchemy closes it when the app context ends) an open
transaction is rolled back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

_LOG = logging.getLogger(__name__)


class _IdleConnection:
    """A thread's SQLite connection between two requests (see the module docstring).

    It goes back to the pool when another engine's connection replaces it or when its thread
    ends (this object is dropped with the thread's locals), never left for the garbage collector.
    It is not used again after ``Engine.dispose()`` (a new pool) or in a forked child process
    (SQLite forbids carrying a connection across ``fork``).
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
        ):
            return connection
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


def _keeps_between_requests(connection: Connection) -> bool:
    """SQLite connections stay with their thread between requests: a local file needs no
    liveness check. Other databases go back to the pool, whose checkout pings them first."""
    return connection.dialect.name == "sqlite" and not connection.invalidated and not connection.closed


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
            held = _THREAD.idle.take(engine) or engine.connect()
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
                if getattr(driver, "in_transaction", False):
                    driver.rollback()  # type: ignore[union-attr]
                _THREAD.idle.keep(held)
                return
        except Exception:
            # As the pool does when a connection cannot be reset on return: drop it, say why.
            _LOG.error("a request's connection could not be reset: dropped", exc_info=True)
            if not held.invalidated:
                held.invalidate()
        held.close()
