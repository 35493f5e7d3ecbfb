"""Count the SQL statements a block issues, to assert query shape (never timings)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask

from scimgate.extensions import db


@contextmanager
def count_statements(app: Flask) -> Iterator[list[str]]:
    """Yield a list that collects every statement executed on the app's engine."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def touching(statements: list[str], table: str) -> list[str]:
    """The statements that name ``table``."""
    return [s for s in statements if table in s]
