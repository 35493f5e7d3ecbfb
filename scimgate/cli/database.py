"""``scimgate init-db``: create the database, or bring its schema to the latest migration."""

from __future__ import annotations

import os

import click
import sqlalchemy.engine.url as sa_url
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from scimgate.cli.common import clean_errors, fail
from scimgate.db import transactions as database


@click.command("init-db")
@with_appcontext
@clean_errors
def init_db() -> None:
    """Create or upgrade the database schema to the latest migration."""
    url = sa_url.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        os.makedirs(os.path.dirname(url.database) or ".", exist_ok=True)  # the app did not make it
        database.create_sqlite_file_owner_only(str(url))  # before SQLite would create it 0644
    try:
        upgrade()
    except Exception as exc:
        fail(f"database upgrade failed: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    click.echo("database is at the latest schema version")
