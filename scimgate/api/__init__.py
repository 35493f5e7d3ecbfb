"""The SCIM HTTP API under ``/scim/v2``: thin routes that parse, call a service and respond."""

from __future__ import annotations

from flask import Blueprint, Flask

SCIM_PREFIX = "/scim/v2"


def make_blueprint() -> Blueprint:
    """Build a fresh SCIM blueprint (one per app, so request hooks never pile up across apps)."""
    from scimgate.api import auth, discovery, groups, openapi, search, users

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
    from scimgate.api import errors, paths

    app.register_blueprint(make_blueprint())
    errors.init_app(app)
    paths.init_app(app, SCIM_PREFIX)  # `/scim/v2/users`, `/Users/`: served as `/Users`
