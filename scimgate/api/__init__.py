"""The SCIM HTTP API under ``/scim/v2``: thin views that parse, call a service and respond."""

from __future__ import annotations

from flask import Blueprint, Flask

from scimgate.api import auth, discovery, errors, groups, openapi, paths, search, users
from scimgate.api.paths import SCIM_PREFIX


def make_blueprint() -> Blueprint:
    """Build a fresh SCIM blueprint (one per app, so request hooks never pile up across apps)."""
    bp = Blueprint("scim", __name__, url_prefix=SCIM_PREFIX)
    auth.protect(bp)
    users.register(bp)
    groups.register(bp)
    search.register(bp)
    discovery.register(bp)
    openapi.register(bp)
    return bp


def init_app(app: Flask) -> None:
    """Register the SCIM routes and the one place that renders SCIM errors."""
    app.register_blueprint(make_blueprint())
    errors.init_app(app)
    paths.init_app(app)  # `/scim/v2/users`, `/Users/`: served as `/Users`
