"""The Flask secret key: from configuration, or generated once and kept beside the database.

Several processes or nodes must share the key (sessions and CSRF tokens are signed with it), so a
production deployment sets ``SCIMGATE_SECRET_KEY``; a single node falls back to a key file under
``site/`` that every process on that node reads.

The ``scimgate`` command's app (``CREATE_FILES_AT_START`` False) reads or creates the file only
when it first serves a request (``scimgate run``): ``--help`` and the set-up commands never sign
anything, so they leave no ``site/secret_key`` in the working directory.
"""

from __future__ import annotations

import os
import secrets
import threading
from typing import Any

from flask import Flask

KEY_FILE = os.path.join("site", "secret_key")


def init_app(app: Flask) -> None:
    """Fill ``SECRET_KEY`` when the configuration left it empty (now, or at the first request)."""
    if app.config.get("SECRET_KEY"):
        return
    if app.config.get("CREATE_FILES_AT_START", True):
        load_or_create(app)
    else:
        app.wsgi_app = _KeyAtFirstRequest(app, app.wsgi_app)  # type: ignore[method-assign]


def load_or_create(app: Flask) -> None:
    """Read the key file, or create it (mode 0600) with a new random key."""
    path = app.config.get("SECRET_KEY_FILE", KEY_FILE)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding="ascii") as handle:
            app.config["SECRET_KEY"] = handle.read().strip()
        return
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    app.config["SECRET_KEY"] = key


class _KeyAtFirstRequest:
    """WSGI middleware that fills ``SECRET_KEY`` before the first request opens a session."""

    def __init__(self, app: Flask, wsgi_app: Any) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not self.app.config.get("SECRET_KEY"):
            with self.lock:
                if not self.app.config.get("SECRET_KEY"):
                    load_or_create(self.app)
        return self.wsgi_app(environ, start_response)
