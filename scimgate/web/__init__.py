"""Browser-facing routes: sign-in (password and SAML), sign-out, and the development IdP."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sign-in pages, and the development IdP only when the configuration allows it."""
    from scimgate import dev_idp
    from scimgate.web import signin

    app.register_blueprint(signin.make_blueprint())
    if app.config.get("DEV_IDP_ENABLED"):
        app.register_blueprint(dev_idp.make_blueprint())
