"""The practical floor: a bare Flask + Flask-SQLAlchemy point lookup on SQLite.

``GET /Users/<id>`` checks a static bearer token, looks one row up by its indexed ``uuid`` column
and returns a small JSON object. Nothing else: no SCIM parsing, no plugins, no logging. scimgate's
``GET /Users/{id}`` is compared with this (target: at most 1.3x its server CPU per request).

Served by gunicorn exactly like the other targets (``gunicorn -c config/gunicorn.conf.py
--chdir bench 'floor_app:create_app()'``) with ``FLOOR_DATABASE_URL`` and ``FLOOR_TOKEN`` in the environment;
:func:`seed` fills the database beforehand.
"""

from __future__ import annotations

import hmac
import os
import uuid

import sqlalchemy as sa
from flask import Flask, Response, abort, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the floor's one table."""


db = SQLAlchemy(model_class=Base)


class FloorUser(db.Model):  # type: ignore[name-defined]
    """One user row: an integer key, the public id (unique index) and two small fields."""

    __tablename__ = "floor_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    username: Mapped[str] = mapped_column(sa.String(150))
    active: Mapped[bool] = mapped_column(default=True)


def create_app(database_url: str | None = None, token: str | None = None) -> Flask:
    """Build the floor application (one route plus a health probe)."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ["FLOOR_DATABASE_URL"]
    expected = f"Bearer {token or os.environ.get('FLOOR_TOKEN', '')}".encode()
    db.init_app(app)

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.get("/Users/<user_id>")
    def get_user(user_id: str) -> Response:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            abort(401)
        row = db.session.execute(sa.select(FloorUser).where(FloorUser.uuid == user_id)).scalar_one_or_none()
        if row is None:
            abort(404)
        return jsonify(id=row.uuid, userName=row.username, active=row.active)

    return app


def seed(database_url: str, count: int) -> list[str]:
    """Create the table and ``count`` rows; return their public ids in insertion order."""
    app = create_app(database_url, token="unused")
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with app.app_context():
        db.create_all()
        db.session.execute(
            sa.insert(FloorUser),
            [{"uuid": value, "username": f"floor-user-{i:06d}"} for i, value in enumerate(ids)],
        )
        db.session.commit()
    return ids
