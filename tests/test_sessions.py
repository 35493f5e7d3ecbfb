"""Sessions are server-side: sign-out revokes the cookie on every node, and lifetime and idle
limits are enforced by the server, not by the cookie's expiry (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scimgate.extensions import db
from scimgate.models import User
from scimgate_config import ConfigError
from tests.support.config import sibling_app
from tests.support.sessions import IDLE, LIFETIME, csrf_from_api, node_at, replaying, session_cookie
from tests.support.signin import add_admin, configure_dev_saml, password_sign_in, saml_sign_in


def _signed_in_admin(app: Flask, client: FlaskClient) -> str:
    with app.app_context():
        add_admin()
    assert password_sign_in(client, "admin").status_code == 302
    assert client.get("/api/v1/session").status_code == 200
    return session_cookie(client)


def _is_signed_out(client: FlaskClient) -> None:
    api = client.get("/api/v1/session")
    assert api.status_code == 401, api.get_data(as_text=True)
    assert api.get_json()["error"] == "unauthenticated"
    page = client.get("/admin/users")
    assert page.status_code == 303
    assert page.headers["Location"].startswith("/login?next=")


def _is_signed_in(client: FlaskClient) -> None:
    assert client.get("/api/v1/session").status_code == 200
    assert client.get("/admin/users").status_code == 200


def test_the_exact_cookie_replayed_after_sign_out_is_refused_on_every_node(
    app: Flask, client: FlaskClient, log_dir: Path
) -> None:
    cookie = _signed_in_admin(app, client)
    other_node = sibling_app(app, log_dir)
    _is_signed_in(replaying(other_node, cookie))
    assert client.post("/logout", data={"csrf_token": csrf_from_api(client)}).status_code == 302
    _is_signed_out(replaying(app, cookie))
    _is_signed_out(replaying(other_node, cookie))


def test_a_saml_session_is_revoked_by_sign_out_too(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    assert saml_sign_in(client, "alice").status_code == 302
    cookie = session_cookie(client)
    assert client.post("/logout", data={"csrf_token": csrf_from_api(client)}).status_code == 302
    assert replaying(app, cookie).get("/api/v1/session").status_code == 401


def test_signing_out_ends_that_session_only(app: Flask, client: FlaskClient) -> None:
    _signed_in_admin(app, client)
    laptop = app.test_client()
    assert password_sign_in(laptop, "admin").status_code == 302
    assert client.post("/logout", data={"csrf_token": csrf_from_api(client)}).status_code == 302
    _is_signed_out(client)
    _is_signed_in(laptop)


def test_sign_out_needs_a_post_with_this_sessions_csrf_token(app: Flask, client: FlaskClient) -> None:
    cookie = _signed_in_admin(app, client)
    # A cross-site link or image (GET) cannot sign anyone out.
    assert client.get("/logout").status_code == 405
    # A cross-site form has neither this session's token nor any token.
    attacker = app.test_client()
    assert password_sign_in(attacker, "admin").status_code == 302
    assert client.post("/logout", data={"csrf_token": csrf_from_api(attacker)}).status_code == 400
    assert client.post("/logout", data={}).status_code == 400
    _is_signed_in(replaying(app, cookie))


def test_a_session_ends_after_its_lifetime_even_when_active(app: Flask, log_dir: Path) -> None:
    with app.app_context():
        add_admin()
    browser = node_at(app, log_dir, 0).test_client()
    assert password_sign_in(browser, "admin").status_code == 302
    cookie = session_cookie(browser)
    step = IDLE - 200  # each request comes before the idle limit, so only the lifetime ends it
    for seconds in range(step, LIFETIME, step):
        assert replaying(node_at(app, log_dir, seconds), cookie).get("/api/v1/session").status_code == 200
    _is_signed_out(replaying(node_at(app, log_dir, LIFETIME + 1), cookie))
    _is_signed_out(replaying(node_at(app, log_dir, 0), cookie))  # ended for good, not just "later"


def test_a_session_ends_after_the_idle_timeout(app: Flask, log_dir: Path) -> None:
    with app.app_context():
        add_admin()
    browser = node_at(app, log_dir, 0).test_client()
    assert password_sign_in(browser, "admin").status_code == 302
    cookie = session_cookie(browser)
    _is_signed_out(replaying(node_at(app, log_dir, IDLE + 1), cookie))
    _is_signed_out(replaying(node_at(app, log_dir, 0), cookie))


def test_activity_keeps_a_session_alive_past_the_idle_timeout(app: Flask, log_dir: Path) -> None:
    with app.app_context():
        add_admin()
    browser = node_at(app, log_dir, 0).test_client()
    assert password_sign_in(browser, "admin").status_code == 302
    cookie = session_cookie(browser)
    _is_signed_in(replaying(node_at(app, log_dir, IDLE - 100), cookie))
    _is_signed_in(replaying(node_at(app, log_dir, 2 * IDLE - 300), cookie))


def test_the_default_lifetime_is_hours_not_a_month(app: Flask) -> None:
    lifetime = app.config["SESSION_LIFETIME_SECONDS"]
    idle = app.config["SESSION_IDLE_TIMEOUT_SECONDS"]
    assert 3600 <= lifetime <= 24 * 3600
    assert 0 < idle < lifetime
    # Flask's own check of the signed cookie's age agrees (it defaults to 31 days).
    assert app.permanent_session_lifetime.total_seconds() == lifetime


def test_a_session_cookie_is_not_kept_by_the_browser_for_weeks(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_admin()
    response = password_sign_in(client, "admin")
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Max-Age" not in set_cookie and "Expires" not in set_cookie  # ends with the browser


def test_a_demoted_admin_loses_the_admin_pages_at_once(app: Flask, client: FlaskClient) -> None:
    cookie = _signed_in_admin(app, client)
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        user.role = "viewer"
        db.session.commit()
    replayed = replaying(app, cookie)
    assert replayed.get("/admin/users").status_code == 403
    assert replayed.get("/api/v1/session").get_json()["user"]["role"] == "viewer"


def test_a_session_refused_while_suspended_stays_ended_after_reactivation(
    app: Flask, client: FlaskClient
) -> None:
    cookie = _signed_in_admin(app, client)
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        user.profile.is_suspended = True
        db.session.commit()
    _is_signed_out(replaying(app, cookie))
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="admin")).scalar_one()
        user.profile.is_suspended = False
        db.session.commit()
    _is_signed_out(replaying(app, cookie))


def test_the_clock_offset_is_ignored_outside_tests(app: Flask, log_dir: Path) -> None:
    """The testing knob cannot shorten or stretch sessions in production."""
    with app.app_context():
        add_admin()
    browser = node_at(app, log_dir, 0).test_client()
    assert password_sign_in(browser, "admin").status_code == 302
    production_like = node_at(app, log_dir, LIFETIME * 10, TESTING=False)
    assert replaying(production_like, session_cookie(browser)).get("/api/v1/session").status_code == 200


@pytest.mark.parametrize("key", ["SESSION_LIFETIME_SECONDS", "SESSION_IDLE_TIMEOUT_SECONDS"])
def test_a_session_limit_of_zero_is_refused_at_start_up(app: Flask, log_dir: Path, key: str) -> None:
    with pytest.raises(ConfigError, match=f"SCIMGATE_{key} must be a positive number of seconds, got 0"):
        sibling_app(app, log_dir, **{key: 0})
