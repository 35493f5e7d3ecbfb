"""What an unauthenticated request can make the server store is bounded (issue 16, exhaustion).

The SCIM activity rows are covered in test_scim_activity.py; here: the SAML sign-in requests an
anonymous ``/saml/login`` leaves behind, and the throttle rows of failing addresses.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from scimgate.api.throttle import AuthThrottle
from scimgate.extensions import db
from scimgate.models import SamlOutstandingRequest
from tests.support.config import read_log
from tests.support.signin import configure_dev_saml, password_sign_in


def test_anonymous_saml_logins_store_a_bounded_amount(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood of /saml/login with a huge ``next`` keeps at most SAML_MAX_OUTSTANDING rows, each
    with a bounded ``next`` (and never a 500 on PostgreSQL's 1000-character column)."""
    configure_dev_saml(app)
    monkeypatch.setitem(app.config, "SAML_MAX_OUTSTANDING", 5)
    huge = "/account?x=" + "y" * 20_000
    for _ in range(20):
        assert client.get("/saml/login", query_string={"next": huge}).status_code == 302
    assert client.get("/saml/login", query_string={"next": "/admin/users"}).status_code == 302
    with app.app_context():
        kept = list(db.session.scalars(sa.select(SamlOutstandingRequest)))
    assert len(kept) == 5
    assert all(len(r.next_url) <= 1000 for r in kept)
    assert "/admin/users" in {r.next_url for r in kept}  # the newest sign-in is still waiting


def test_throttle_rows_of_past_addresses_are_dropped(app: Flask, client: FlaskClient) -> None:
    """One failing request from each of many addresses (an IPv6 prefix has plenty) leaves only
    the addresses seen within the failure window."""
    for i in range(30):
        client.get("/scim/v2/Users", environ_overrides={"REMOTE_ADDR": f"2001:db8::{i}"})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuthThrottle)) == 30
        past = AuthThrottle.window_start - dt.timedelta(hours=1)
        db.session.execute(sa.update(AuthThrottle).values(window_start=past))
        db.session.commit()
    client.get("/scim/v2/Users", environ_overrides={"REMOTE_ADDR": "2001:db8::ffff"})
    with app.app_context():
        left = list(db.session.scalars(sa.select(AuthThrottle.address)))
    assert left == ["2001:db8::ffff"]


def test_a_sign_in_attempt_cannot_write_a_huge_log_line(
    app: Flask, client: FlaskClient, log_dir: Path
) -> None:
    """The username typed into /login (up to the form's body cap) is logged cut short."""
    name = "u" * 40_000
    response = password_sign_in(client, name, "wrong")
    assert response.status_code in (200, 401, 403)
    lines = [line for line in read_log(log_dir, "scim-info.log").splitlines() if "signin.refused" in line]
    assert lines and "uuuuuuuuuu" in lines[-1]
    assert len(lines[-1]) < 1500
