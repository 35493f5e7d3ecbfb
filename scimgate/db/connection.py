"""The current request's database connection, as flaskr's ``get_db``: opened and begun on first
use, rolled back and returned to the pool when the app context ends.

It is the connection ``db.session`` holds (``scimgate.db.session.RequestSession``), so SQL Core
statements and the ORM share one transaction, and ``db.session.commit()`` or ``rollback()`` ends
it whichever began it. SQLite's ``BEGIN`` (deferred or ``IMMEDIATE``) comes from
``scimgate.db.transactions``.
"""

from __future__ import annotations

from sqlalchemy import Connection

from scimgate.db.session import RequestSession
from scimgate.extensions import db


def get_connection() -> Connection:
    """The connection of the current request's transaction, begun when none is open.

    Only for statements that touch no ORM object with pending changes (the ORM flushes those
    at its own statements and at commit).
    """
    session: RequestSession = db.session()  # type: ignore[assignment]
    connection = session.held_connection()
    if not connection.in_transaction():
        connection.begin()
    return connection
