"""Browser-facing routes: sign-in (password and SAML), sign-out, the profile and Admin Settings
pages, their stylesheet and script (``/assets``), and the development IdP."""

from __future__ import annotations

from flask import Blueprint, Flask

from scimgate.extensions import ROUTING_ERROR_RENDERERS
from scimgate.signin import dev_idp
from scimgate.web import admin, nul_input, pages, profile, security, session_interface, signin


def init_app(app: Flask) -> None:
    """Register the pages, their security headers, and the development IdP only when allowed."""
    session_interface.init_app(app)
    security.init_app(app)
    nul_input.init_app(app)
    pages.init_app(app)
    # A URL that names no page gets the site's error page (API and SCIM prefixes answer their own).
    app.extensions.setdefault(ROUTING_ERROR_RENDERERS, []).append(("/", pages.http_error_page))
    app.register_blueprint(
        Blueprint("assets", __name__, static_folder="static", static_url_path="/assets"),
    )
    app.register_blueprint(signin.make_blueprint())
    profile.init_app(app)
    admin.init_app(app)
    if app.config.get("DEV_IDP_ENABLED"):
        app.register_blueprint(dev_idp.make_blueprint())
