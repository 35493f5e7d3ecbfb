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
from scimgate.scim import urns


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


def test_upgrading_a_database_that_holds_data_keeps_it(tmp_path: Path) -> None:
    """``scimgate init-db`` on a populated database (a re-run, or a new release's upgrade) applies
    only what is missing: every row written through the API is still there afterwards."""
    from tests.support.scim import configure_scim

    app = create_app(
        "testing",
        overrides={"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'held.db'}", "LOG_DIR": str(tmp_path)},
    )
    with app.app_context():
        flask_migrate.upgrade()
    headers = configure_scim(app)
    client = app.test_client()
    user = client.post(
        "/scim/v2/Users", json={"schemas": [urns.USER], "userName": "kept"}, headers=headers
    ).get_json()
    group = client.post(
        "/scim/v2/Groups",
        json={"schemas": [urns.GROUP], "displayName": "kept-group", "members": [{"value": user["id"]}]},
        headers=headers,
    ).get_json()
    runner = app.test_cli_runner()
    from scimgate.cli.database import init_db

    result = runner.invoke(init_db)
    assert result.exit_code == 0, result.output
    assert client.get("/readyz").status_code == 200
    again = client.get(f"/scim/v2/Groups/{group['id']}", headers=headers).get_json()
    assert [m["value"] for m in again["members"]] == [user["id"]]
    assert client.get(f"/scim/v2/Users/{user['id']}", headers=headers).get_json()["userName"] == "kept"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
