"""Is an idle database connection still alive? Answered without a round trip.

A PostgreSQL server (or PgBouncer) that goes away tells its idle clients: a shutting-down or
crashing server sends ``FATAL: terminating connection`` and closes the socket, a restarted
PgBouncer closes it. Between requests scimgate never has a query outstanding and never
``LISTEN``s, so anything waiting to be read on an idle connection's socket means the server ended
it. Looking costs one ``select()`` with a zero timeout, a few microseconds; the pool's
``pool_pre_ping`` costs a round trip to the server on every request, which the production
configuration does not pay (docs/deployment.md, "Connection liveness and round trips").

What this does not see (a peer that vanished without a word, e.g. a cable cut) still fails at the
request's first statement with a 503 that changed nothing; the pool then drops that worker's older
connections. A false alarm (some harmless unsolicited message) only costs a new connection.
"""

from __future__ import annotations

import select
from typing import Any

import sqlalchemy as sa


def idle_connection_is_closed(dbapi_connection: Any) -> bool:
    """True when the server has ended this idle driver connection (or it is closed here).

    Only psycopg connections are looked at; a SQLite connection is a local file and never ends.
    """
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        return False
    if getattr(dbapi_connection, "closed", False):
        return True
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:
        return False  # a driver scimgate does not know: leave it to the first statement
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except Exception:  # OSError, or the driver's "the connection is closed": not usable either way
        return True
    return bool(readable)


def check_out(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """Pool ``checkout`` listener: hand out no connection the server has already ended.

    Raising ``DisconnectionError`` is SQLAlchemy's documented way to make the pool discard the
    connection and check out (or open) another one.
    """
    if idle_connection_is_closed(dbapi_connection):
        raise sa.exc.DisconnectionError("the server ended this idle connection")
