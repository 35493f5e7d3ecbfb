"""The Flask secret key: from configuration, or generated once and kept beside the database.

Several processes or nodes must share the key (sessions and CSRF tokens are signed with it), so a
production deployment sets ``SCIMGATE_SECRET_KEY``; a single node falls back to a key file under
``site/`` that every process on that node reads.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask

KEY_FILE = os.path.join("site", "secret_key")


def init_app(app: Flask) -> None:
    """Fill ``SECRET_KEY`` when the configuration left it empty."""
    if app.config.get("SECRET_KEY"):
        return
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
