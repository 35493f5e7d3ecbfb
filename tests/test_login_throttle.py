"""``/login`` throttling per address and per username, shared by every process (issues 9 and 16).

The throttle is asked before the argon2 verification, refuses a right password while blocked,
treats unknown usernames exactly like known ones, and is not reset by a success.
"""

from __future__ import annotations

from pathlib import Path

import argon2
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.config import sibling_app
from tests.support.signin import ADMIN_PASSWORD, add_admin, password_sign_in

ADDRESS_LIMIT = 4
USERNAME_LIMIT = 3


def _app(app: Flask, log_dir: Path) -> Flask:
    """A process with small limits, on the shared database."""
    return sibling_app(
        app,
        log_dir,
        LOGIN_FAILURE_LIMIT_PER_ADDRESS=ADDRESS_LIMIT,
        LOGIN_FAILURE_LIMIT_PER_USERNAME=USERNAME_LIMIT,
        LOGIN_FAILURE_WINDOW_SECONDS=600,
        LOGIN_BLOCK_SECONDS=300,
    )


def _from(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _throttled(response) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 300
    assert response.mimetype == "text/html"
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)


def test_an_address_is_blocked_after_its_failures_even_with_the_right_password(
    app: Flask, log_dir: Path
) -> None:
    limited = _app(app, log_dir)
    with app.app_context():
        add_admin()
    attacker = _from(limited, "192.0.2.10")
    names = [f"guess{i}" for i in range(ADDRESS_LIMIT - 1)]
    for name in names:  # different usernames: only the address counter reaches its limit
        assert password_sign_in(attacker, name, "wrong").status_code == 401
    _throttled(password_sign_in(attacker, "admin", "wrong"))
    _throttled(password_sign_in(attacker, "admin"))  # the right password is refused too
    assert attacker.get("/api/v1/session").status_code == 401
    # Another address is not affected.
    assert password_sign_in(_from(limited, "192.0.2.11"), "admin").status_code == 302


def test_a_username_is_blocked_whatever_the_address(app: Flask, log_dir: Path) -> None:
    limited = _app(app, log_dir)
    with app.app_context():
        add_admin()
    for n in range(USERNAME_LIMIT - 1):
        assert password_sign_in(_from(limited, f"192.0.2.{20 + n}"), "admin", "wrong").status_code == 401
    _throttled(password_sign_in(_from(limited, "192.0.2.30"), "admin", "wrong"))
    _throttled(password_sign_in(_from(limited, "192.0.2.31"), "admin"))
    # The same fresh address may still sign in to another account.
    with app.app_context():
        add_admin("other")
    assert password_sign_in(_from(limited, "192.0.2.31"), "other").status_code == 302


def test_unknown_usernames_count_and_answer_like_known_ones(app: Flask, log_dir: Path) -> None:
    limited = _app(app, log_dir)
    with app.app_context():
        add_admin()
    answers = {}
    for name in ("admin", "nobody"):
        statuses = [
            password_sign_in(_from(limited, f"198.51.100.{n}"), name, "wrong").status_code
            for n in range(USERNAME_LIMIT + 1)
        ]
        blocked = password_sign_in(_from(limited, "198.51.100.99"), name, "wrong")
        answers[name] = (statuses, blocked.status_code, blocked.headers.get("Retry-After"))
        body = blocked.get_data(as_text=True)
        assert name not in body
    assert answers["admin"][0] == answers["nobody"][0] == [401] * (USERNAME_LIMIT - 1) + [429, 429]
    assert answers["admin"][1:] == answers["nobody"][1:]


def test_the_throttle_is_shared_by_processes(app: Flask, log_dir: Path) -> None:
    first, second = _app(app, log_dir), _app(app, log_dir)
    with app.app_context():
        add_admin()
    for n in range(USERNAME_LIMIT - 1):
        node = first if n % 2 == 0 else second
        assert password_sign_in(_from(node, f"203.0.113.{n}"), "admin", "wrong").status_code == 401
    _throttled(password_sign_in(_from(second, "203.0.113.50"), "admin", "wrong"))
    _throttled(password_sign_in(_from(first, "203.0.113.51"), "admin"))


def test_a_success_does_not_reset_the_failures_of_the_address(app: Flask, log_dir: Path) -> None:
    """An attacker with an account of their own cannot wipe their address's count by signing in."""
    limited = _app(app, log_dir)
    with app.app_context():
        add_admin("victim")
        add_admin("attacker")
    attacker = _from(limited, "192.0.2.40")
    for n in range(ADDRESS_LIMIT - 1):
        assert password_sign_in(attacker, f"victim{n}", "wrong").status_code == 401
        assert password_sign_in(attacker, "attacker").status_code == 302
    _throttled(password_sign_in(attacker, "victim", "wrong"))


def test_a_blocked_attempt_costs_no_password_hash(
    app: Flask, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted at the argon2 library's door: a blocked guess never reaches a verification."""
    limited = _app(app, log_dir)
    with app.app_context():
        add_admin("victim")
    verifications: list[str] = []
    real_verify = argon2.PasswordHasher.verify

    def counting_verify(self: argon2.PasswordHasher, hash: str, password: str) -> bool:
        verifications.append(password)
        return real_verify(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)
    assert password_sign_in(_from(limited, "192.0.2.60"), "victim", "wrong").status_code == 401
    assert verifications == ["wrong"]  # the spy sees an unthrottled attempt's verification
    attacker = _from(limited, "192.0.2.61")
    for n in range(ADDRESS_LIMIT):
        password_sign_in(attacker, f"nobody{n}", f"guess{n}")
    verifications.clear()
    _throttled(password_sign_in(attacker, "victim", "blocked-guess"))
    _throttled(password_sign_in(attacker, "victim", ADMIN_PASSWORD))
    assert verifications == []


def test_the_default_limits_are_on(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_admin()
    limit = app.config["LOGIN_FAILURE_LIMIT_PER_USERNAME"]
    assert 0 < limit <= 10
    statuses = [password_sign_in(client, "admin", "wrong").status_code for _ in range(limit)]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}
