"""Helpers for the session and sign-in throttle tests: cookies to replay, apps with other clocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.support.config import sibling_app

COOKIE = "session"
# Short limits for the sibling apps of these tests (the defaults are hours).
LIFETIME = 3600
IDLE = 1200


def session_cookie(client: FlaskClient) -> str:
    """The exact session cookie this client holds now."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return cookie.value


def replaying(app: Flask, cookie: str, **environ: Any) -> FlaskClient:
    """A new client of ``app`` (another browser, or an attacker) sending exactly ``cookie``."""
    client = app.test_client()
    if environ:
        client.environ_base.update(environ)
    client.set_cookie(COOKIE, cookie)
    return client


def node_at(app: Flask, log_dir: Path, seconds_later: int, **overrides: Any) -> Flask:
    """Another process on the same database whose session clock reads ``seconds_later`` ahead.

    The clock is shifted by configuration (``SESSION_CLOCK_OFFSET_SECONDS``, honoured only by a
    testing app), so lifetime and idle limits are tested without sleeping.
    """
    settings = {"SESSION_LIFETIME_SECONDS": LIFETIME, "SESSION_IDLE_TIMEOUT_SECONDS": IDLE, **overrides}
    return sibling_app(app, log_dir, SESSION_CLOCK_OFFSET_SECONDS=seconds_later, **settings)


def csrf_from_api(client: FlaskClient) -> str:
    """This session's CSRF token, as the JSON API hands it out."""
    response = client.get("/api/v1/session")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["csrf_token"]
