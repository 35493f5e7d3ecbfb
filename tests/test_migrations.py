"""The Alembic migrations build exactly the models' schema, on SQLite and on PostgreSQL.

Deployments create the schema with ``scimgate init-db`` (migrations), while the other tests use
``create_all``; this test fails when a model changes without a new migration
(regenerate with ``scimgate db migrate -m "..."`` against an upgraded database).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from scimgate import create_app
from scimgate.extensions import db


def test_upgrade_matches_models_and_downgrades(database_url: str, tmp_path: Path) -> None:
    engine_options: dict = {}
    schema = None
    url = f"sqlite:///{tmp_path / 'migrations.db'}"
    if database_url.startswith("postgresql"):
        url = database_url
        schema = f"mig_{secrets.token_hex(4)}"
        engine_options = {"connect_args": {"options": f"-csearch_path={schema}"}}
        bootstrap = sa.create_engine(database_url)
        with bootstrap.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    app = create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "LOG_DIR": str(tmp_path / "logs"),
        },
    )
    try:
        with app.app_context():
            flask_migrate.upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                assert compare_metadata(context, db.metadata) == []
            flask_migrate.downgrade(revision="base")
            with db.engine.connect() as conn:
                assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
            db.session.remove()
            db.engine.dispose()
    finally:
        if schema:
            with bootstrap.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            bootstrap.dispose()
