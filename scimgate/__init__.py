"""scimgate: a SCIM 2.0 service provider (RFC 7643/7644) for the application it serves."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from scimgate.db.request_state import ScimgateRequest

__version__ = "0.1.0"

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


class ScimgateFlask(Flask):
    """Flask whose requests carry scimgate's ``RequestState`` (see ``scimgate.db.request_state``)."""

    request_class = ScimgateRequest


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build an app: configuration, database, logs, SCIM routes and CLI.

    ``config_name`` picks a class from ``scimgate_config`` (default: ``$SCIMGATE_CONFIG`` or
    ``default``); ``overrides`` (tests) win over everything, including ``SCIMGATE_*`` variables.
    """
    from scimgate import admin_api, api, health, plugin_host, web
    from scimgate.api import body_limits
    from scimgate.cli import audit as audit_cli
    from scimgate.cli import plugins as plugins_cli
    from scimgate.cli import shell as shell_cli
    from scimgate.conf import secret_key
    from scimgate.db import transactions as database
    from scimgate.extensions import db, migrate
    from scimgate.logs import activity as scim_activity
    from scimgate.logs import scim_logs as scim_logging
    from scimgate.web import url_ids
    from scimgate_config import load_config

    app = ScimgateFlask(__name__, instance_relative_config=False)
    app.config.update(load_config(config_name))
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = _sqlite_in_working_dir(
        app.config["SQLALCHEMY_DATABASE_URI"], create_dir=app.config.get("CREATE_FILES_AT_START", True)
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config)
    _trust_proxies(app)
    url_ids.init_app(app)  # before any route: `<int:id>` stops at the database's integers

    database.install()
    if app.config.get("CREATE_FILES_AT_START", True):  # the command's app: init-db creates it
        database.create_sqlite_file_owner_only(app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    secret_key.init_app(app)
    scim_logging.init_app(app)
    scim_activity.init_app(app)
    body_limits.init_app(app)
    plugin_host.init_app(app)
    api.init_app(app)
    health.init_app(app)
    web.init_app(app)
    admin_api.init_app(app)
    audit_cli.init_app(app)
    plugins_cli.init_app(app)
    shell_cli.init_app(app)
    return app


def _engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """The engine options for the configured database.

    A local SQLite file needs no liveness ping before each checkout. On PostgreSQL,
    ``DATABASE_PREPARED_STATEMENTS = False`` stops psycopg preparing statements on the server
    (``prepare_threshold=None``), which a pooler in transaction mode would route to a server
    connection that never saw the PREPARE.
    """
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        options.pop("pool_pre_ping", None)
    elif url.startswith("postgresql") and not config.get("DATABASE_PREPARED_STATEMENTS", True):
        options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
    return options


def _trust_proxies(app: Flask) -> None:
    """Honour X-Forwarded-* from ``PROXY_FIX_X_FOR`` reverse proxies (client address, scheme,
    host), so throttling sees the real client and ``Location`` URLs use the public scheme."""
    hops = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _sqlite_in_working_dir(url: str, create_dir: bool = True) -> str:
    """Anchor a relative SQLite path in the working directory and create its folder.

    Flask-SQLAlchemy would otherwise resolve it inside the package's instance folder, which
    differs between a checkout, an installed package and the ``scimgate`` command.
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix) or ":memory:" in url:
        return url
    path = url[len(prefix) :].split("?", 1)[0]
    absolute = os.path.abspath(path)
    if create_dir:  # `scimgate init-db` makes it when the command's app did not
        os.makedirs(os.path.dirname(absolute), exist_ok=True)
    return prefix + absolute + url[len(prefix) + len(path) :]
