"""Cookie sessions only where a browser uses them.

Flask opens the signed cookie session at the start of every request, which costs a serializer
and an HMAC set-up even when nothing reads it. SCIM clients and load-balancer probes never send a
session cookie and must never get one, so their paths get Flask's ``NullSession`` (reading it
finds nothing; writing it raises) and the per-request cost is gone from the SCIM hot path.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from scimgate_config import ConfigError

SESSIONLESS_PREFIXES = ("/scim/", "/healthz", "/readyz", "/metrics")


def is_sessionless(path: str) -> bool:
    """True for the SCIM API and the health probes."""
    return path == "/scim" or path.startswith(SESSIONLESS_PREFIXES)


class BrowserOnlySessionInterface(SecureCookieSessionInterface):
    """The usual signed cookie session, except on paths no browser signs in to."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_sessionless(request.path):
            return self.make_null_session(app)  # type: ignore[return-value]
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Install the interface; Flask's own age check of the signed cookie (31 days by default)
    follows the session lifetime, which the server enforces anyway (``browser.session_store``)."""
    for key in ("SESSION_LIFETIME_SECONDS", "SESSION_IDLE_TIMEOUT_SECONDS"):
        if int(app.config[key]) <= 0:  # nobody could stay signed in: say so at start-up
            raise ConfigError(f"SCIMGATE_{key} must be a positive number of seconds, got {app.config[key]}")
    app.session_interface = BrowserOnlySessionInterface()
    app.permanent_session_lifetime = dt.timedelta(seconds=int(app.config["SESSION_LIFETIME_SECONDS"]))
