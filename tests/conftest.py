"""Shared fixtures: one app per test session on SQLite, or on PostgreSQL when
``SCIMGATE_TEST_DATABASE_URL`` names one; every test starts from empty tables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from scimgate import create_app
from scimgate.extensions import db
from tests.support.pgbouncer import SHARED_POSTGRES, pgbouncer, private_database
from tests.support.scim import ScimClient, configure_scim


def _engine_options_for(url: str) -> tuple[dict[str, Any], str | None]:
    """Give each PostgreSQL test run its own schema, so parallel runs never collide."""
    if not url.startswith("postgresql"):
        return {}, None
    schema = f"t_{os.getpid()}_{secrets.token_hex(3)}"
    return {"connect_args": {"options": f"-csearch_path={schema}"}}, schema


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database under test: PostgreSQL from the environment, else a fresh SQLite file."""
    url = os.environ.get("SCIMGATE_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'scimgate.db'}"


@pytest.fixture(scope="session")
def pgbouncer_url() -> Iterator[str]:
    """A PgBouncer in transaction pooling mode in front of a new database of this session's own
    on the server under test (the shared cluster in the SQLite pass), for ``-m pgbouncer``.

    A database, not a schema: PgBouncer 1.18 does not pass the ``options`` startup parameter
    that gives the other PostgreSQL runs their schema."""
    url = os.environ.get("SCIMGATE_TEST_DATABASE_URL", "")
    server = (
        sa.engine.make_url(url).set(database="postgres").render_as_string(hide_password=False)
        if (url.startswith("postgresql"))
        else SHARED_POSTGRES
    )
    with private_database(server) as database, pgbouncer(database) as bouncer:
        yield bouncer.url


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the three SCIM log files of this test session are written."""
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def app(database_url: str, log_dir: Path) -> Iterator[Flask]:
    """A testing app whose schema is created once (tests only; deployments use migrations)."""
    engine_options, schema = _engine_options_for(database_url)
    if schema:
        bootstrap = sa.create_engine(database_url)
        with bootstrap.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    application = create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "LOG_DIR": str(log_dir),
        },
    )
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if schema:
        with bootstrap.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        bootstrap.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Delete every row after each test that used the app, so tests cannot leak state."""
    yield
    if "app" not in request.fixturenames:
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        from scimgate.logs import activity as scim_activity

        # Rows this test queued, in this app or a sibling app, land before the tables are emptied
        # (a sibling's half-second flush would otherwise write into the next test's tables).
        scim_activity.flush_all()
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A plain HTTP test client (no credentials)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """A CLI runner bound to the testing app."""
    return app.test_cli_runner()


@pytest.fixture
def scim_headers(app: Flask) -> dict[str, str]:
    """Fully configured SCIM (SAML on, client okta, token, sync enabled): Bearer headers."""
    return configure_scim(app)


@pytest.fixture
def scim(client: FlaskClient, scim_headers: dict[str, str]) -> ScimClient:
    """An authenticated SCIM client against a fully configured app."""
    return ScimClient(client, scim_headers)
