"""``/healthz`` (the process answers) and ``/readyz`` (the database answers and its schema is at the
migrations' head). Both are unauthenticated for load balancers and reveal nothing else."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify

from scimgate.extensions import db, migrate


@functools.cache
def migration_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migration scripts shipped with this build."""
    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def healthz() -> Response:
    """Always 200 while the process can answer."""
    return jsonify(status="ok")


def readyz() -> tuple[Response, int]:
    """200 when the database is reachable and migrated to head, 503 otherwise."""
    try:
        current = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("readyz: database unreachable or not initialised")
        return jsonify(status="unavailable"), 503
    finally:
        db.session.remove()
    if current != set(migration_heads(migrate.directory)):  # the folder create_app gave Flask-Migrate
        return jsonify(status="migrations pending"), 503
    return jsonify(status="ready"), 200


def init_app(app: Flask) -> None:
    """Register the two probes."""
    bp = Blueprint("health", __name__)
    bp.add_url_rule("/healthz", "healthz", healthz)
    bp.add_url_rule("/readyz", "readyz", readyz)
    app.register_blueprint(bp)
