"""The ``scimgate`` command: Flask's ``run``/``shell``/``db`` plus one module per command group.

``init-db`` (database), ``conf``, ``scim``, ``saml``, ``admin``, ``dev``, ``audit`` and ``plugins``
each live in their own module; this one only assembles them under ``main``, the console script.
Every command exits 0 on success and, on a refused or invalid input, prints one clear line to
stderr and exits 1 (``scimgate.cli.common``). ``audit`` and ``plugins`` (and the shell's names)
are registered on each app by ``create_app``, so they also answer ``app.test_cli_runner()``.
"""

from __future__ import annotations

from flask import Flask

from scimgate import create_app
from scimgate.cli import admin, conf, database, dev, saml, scim
from scimgate.cli.common import Commands


def _create_app() -> Flask:
    return create_app(overrides={"CREATE_FILES_AT_START": False})  # `--help` writes nothing


main = Commands(create_app=_create_app, help="scimgate: a SCIM 2.0 service provider.")
for _command in (database.init_db, conf.conf, scim.scim, saml.saml, admin.admin, dev.dev):
    main.add_command(_command)
