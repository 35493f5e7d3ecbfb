"""Whole numbers in URLs (``/api/v1/users/<int:id>``, ``/admin/groups/<int:id>``) stop at what
the database's integer columns hold.

Werkzeug's ``int`` converter takes any number of digits, and a 20-digit id then reached the
driver (SQLite: "Python int too large to convert to SQLite INTEGER") as a 500. Capped here, such
a URL matches no route: 404, like any other id that names nothing.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from scimgate.models import ROW_ID_MAX

DATABASE_INT_MAX = ROW_ID_MAX  # the largest id every database's Integer key holds (PostgreSQL int4)


class DatabaseInt(IntegerConverter):
    """``int`` whose value never exceeds ``DATABASE_INT_MAX`` (negative ids match no route anyway)."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", DATABASE_INT_MAX)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Make ``<int:...>`` the bounded converter; call before any route is added."""
    app.url_map.converters["int"] = DatabaseInt
