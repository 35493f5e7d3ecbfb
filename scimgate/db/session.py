"""The ORM session class: one connection per session, shared with ``db.connection.get_connection``.

Why a session class of our own: the ORM session's transaction bookkeeping (a ``SessionTransaction``
per transaction, binding it to a connection, its commit and close steps) costs every SCIM request
although the hot paths run only prebuilt Core statements. Measured with ``bench/inproc.py``
(CPU per request, SQLite): with the stock session and ``db.session.connection()`` as the request's
connection, users.get went from 0.337 to 0.380 ms (+13 %), users.patch_active from 0.746 to
0.835 ms (+12 %), users.create from 0.657 to 0.781 ms. So the request's statements run on one
SQLAlchemy ``Connection`` that this session holds; ``get_connection()`` begins a transaction on it
directly, and the ORM, when a request uses it (admin pages, accounts), joins that same
transaction (``join_transaction_mode="control_fully"``). There is exactly one connection and one
transaction per request, and ``commit``/``rollback``/``close`` of the session end it whichever
side began it, so every caller keeps writing ``db.session.commit()``. When the session closes
(Flask-SQLAlchemy closes it when the app context ends) an open transaction is rolled back and the
connection goes back to the pool, whose reset on return also rolls back the driver.

(Keeping a SQLite connection with its thread between requests, instead of the pool, saved under
3 % of a request in the same measurement: it went.)
"""

from __future__ import annotations

import logging
import os
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import Pool

_LOG = logging.getLogger(__name__)
_installed = False


def _remember_process(dbapi_connection: Any, record: Any) -> None:
    record.info["pid"] = os.getpid()


def _refuse_parents_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A forked child (a worker started after the app) never uses its parent's pooled
    connection: SQLite forbids it, and a shared PostgreSQL socket would mix two conversations.
    The pool then discards it (without closing the parent's) and connects anew."""
    if record.info.get("pid", os.getpid()) != os.getpid():
        record.dbapi_connection = proxy.dbapi_connection = None
        raise DisconnectionError("connection belongs to the parent process")


def install() -> None:
    """Register the fork guard once per process, for every pool (SQLAlchemy's own recipe for
    pools used across ``os.fork``)."""
    global _installed
    if not _installed:
        sa.event.listen(Pool, "connect", _remember_process)
        sa.event.listen(Pool, "checkout", _refuse_parents_connection)
        _installed = True


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
            held = self._held = engine.connect()
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
        """Roll back the request's transaction, begun by the ORM or by ``get_connection()``,
        also one whose COMMIT failed (see ``roll_back``)."""
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
        except Exception:
            # As the pool does when a connection cannot be reset on return: drop it, say why.
            _LOG.error("a request's connection could not be reset: dropped", exc_info=True)
            if not held.invalidated:
                held.invalidate()
        held.close()
