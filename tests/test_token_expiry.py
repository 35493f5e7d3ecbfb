"""The SCIM token items of issue 17, through HTTP and the CLI: Generate asks before it revokes a
token in use (also without JavaScript), and from 14 days before expiry the status, every admin
page and scim-info.log warn with the date; an expired token reads "expired on <date>".

The clock the warnings read is the token's stored expiry (moved with ``move_token_expiry``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scimgate import cli
from scimgate import configuration_utils as cu
from scimgate.conf import token_expiry
from scimgate.models import utcnow
from scimgate.web.admin.authentication import REVOKE_WARNING
from tests.support.assistant import csrf_of, move_token_expiry, people, sign_in_admin, text_of
from tests.support.config import bearer_header, read_log
from tests.support.signin import configure_dev_saml, saml_sign_in

TOKEN_ROW = r"Bearer token"


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    return sign_in_admin(app, client)


def _token_in_use(app: Flask) -> str:
    configure_dev_saml(app)
    with app.app_context():
        cu.update_scim_client("okta")
        token = cu.generate_scim_bearer_token(6)
        cu.enable_scim_user_and_group_sync()
    return token


def _fingerprint(app: Flask) -> str | None:
    with app.app_context():
        return cu.get_scim_bearer_token()["fingerprint"]


def _generate(admin: FlaskClient, **extra: str):
    return admin.post(
        "/admin/authentication/token", data={"csrf_token": csrf_of(admin), "months": "2", **extra}
    )


def _status_value(page: str, name: str) -> str:
    import re

    row = re.search(
        rf'<th scope="row" data-label="Setting">{name}</th>\s*<td data-label="Now">(.*?)</td>', page, re.S
    )
    assert row, page
    return " ".join(re.sub(r"<[^>]+>", "", row[1]).split())


# --- confirmation before a token in use is revoked ------------------------------------------------


def test_the_page_offers_the_confirmation_dialog_only_while_a_token_is_in_use(
    app: Flask, admin: FlaskClient
) -> None:
    page = admin.get("/admin/authentication").get_data(as_text=True)
    assert 'id="confirm-dialog"' not in page and "data-confirm-dialog" not in page
    _token_in_use(app)
    page = admin.get("/admin/authentication").get_data(as_text=True)
    assert 'data-confirm-dialog="confirm-dialog"' in page
    assert REVOKE_WARNING == "The identity provider's current token stops working immediately."
    assert REVOKE_WARNING.replace("'", "&#39;") in page


@pytest.mark.parametrize("confirm", [None, "", "no", "YES", "true"])
def test_a_post_without_confirmation_while_a_token_is_in_use_changes_nothing(
    app: Flask, admin: FlaskClient, confirm: str | None
) -> None:
    token = _token_in_use(app)
    before = _fingerprint(app)
    response = _generate(admin, **({} if confirm is None else {"confirm": confirm}))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="confirm-dialog" open data-modal' in page, "the confirmation itself, usable without script"
    assert "stops working immediately" in text_of(page, "confirm-warning")
    assert 'name="confirm" value="yes"' in page and 'name="months" value="2"' in page
    assert 'id="token-dialog"' not in page
    assert _fingerprint(app) == before
    assert admin.get("/scim/v2/Users", headers=bearer_header(token)).status_code == 200


def test_a_confirmed_post_replaces_the_token_in_use(app: Flask, admin: FlaskClient) -> None:
    old = _token_in_use(app)
    page = _generate(admin, confirm="yes").get_data(as_text=True)
    assert 'id="token-dialog"' in page and 'id="confirm-dialog" open' not in page
    assert admin.get("/scim/v2/Users", headers=bearer_header(old)).status_code == 401


def test_no_confirmation_without_a_token_or_with_an_expired_one(app: Flask, admin: FlaskClient) -> None:
    assert 'id="token-dialog"' in _generate(admin).get_data(as_text=True), "no token yet: generated at once"
    move_token_expiry(app, -1)
    first = _fingerprint(app)
    page = _generate(admin).get_data(as_text=True)
    assert 'id="token-dialog"' in page, "an expired token works nowhere: nothing to confirm"
    assert _fingerprint(app) != first


def test_a_bad_month_count_is_refused_before_any_confirmation(app: Flask, admin: FlaskClient) -> None:
    _token_in_use(app)
    before = _fingerprint(app)
    response = admin.post(
        "/admin/authentication/token", data={"csrf_token": csrf_of(admin), "months": "9", "confirm": "yes"}
    )
    assert response.status_code == 400 and _fingerprint(app) == before


# --- expiry warnings -------------------------------------------------------------------------------


def test_far_from_expiry_there_is_no_warning(app: Flask, admin: FlaskClient) -> None:
    _token_in_use(app)
    expires = move_token_expiry(app, 15)
    page = admin.get("/admin/authentication").get_data(as_text=True)
    assert _status_value(page, TOKEN_ROW) == f"OK valid until {people(expires)}"
    assert 'id="token-banner"' not in page


def test_from_14_days_before_expiry_the_status_and_every_admin_page_warn(
    app: Flask, admin: FlaskClient
) -> None:
    _token_in_use(app)
    expires = move_token_expiry(app, 5)
    page = admin.get("/admin/authentication").get_data(as_text=True)
    assert _status_value(page, TOKEN_ROW) == f"Soon expires on {people(expires)} (in 5 days)"
    for path in (
        "/admin/authentication",
        "/admin/users",
        "/admin/groups",
        "/admin/activity",
        "/admin/settings",
    ):
        banner = text_of(admin.get(path).get_data(as_text=True), "token-banner")
        assert banner.startswith(f"The SCIM bearer token expires on {people(expires)} (in 5 days).")
    assert 'id="token-banner"' not in admin.get("/profile").get_data(as_text=True), "admins only"
    other = app.test_client()
    assert saml_sign_in(other, "viewer").status_code == 302
    refused = other.get("/admin/users")
    assert refused.status_code == 403 and 'id="token-banner"' not in refused.get_data(as_text=True)
    expires = move_token_expiry(app, 14)
    assert "(in 14 days)" in _status_value(
        admin.get("/admin/authentication").get_data(as_text=True), TOKEN_ROW
    )


def test_an_expired_token_reads_expired_on_its_date(app: Flask, admin: FlaskClient) -> None:
    _token_in_use(app)
    expires = move_token_expiry(app, -2)
    page = admin.get("/admin/authentication").get_data(as_text=True)
    value = _status_value(page, TOKEN_ROW)
    assert value == f"Off expired on {people(expires)}"
    assert "until" not in value
    banner = text_of(admin.get("/admin/users").get_data(as_text=True), "token-banner")
    assert banner.startswith(
        f"The SCIM bearer token expired on {people(expires)}: the identity provider's requests are refused."
    )


def _token_line(runner) -> str:
    output = runner.invoke(cli.main, ["scim", "status"]).output
    return next(x for x in output.splitlines() if x.startswith("bearer token:"))


def test_cli_status_warns_with_the_date(app: Flask, runner) -> None:
    _token_in_use(app)
    fingerprint = _fingerprint(app)
    expires = move_token_expiry(app, 40)
    line = _token_line(runner)
    assert line.endswith(f", valid until {people(expires)}") and fingerprint in line
    expires = move_token_expiry(app, 3)
    line = _token_line(runner)
    assert line.endswith(f", EXPIRES SOON: expires on {people(expires)} (in 3 days)")
    expires = move_token_expiry(app, -1)
    line = _token_line(runner)
    assert line.endswith(f", EXPIRED: expired on {people(expires)}")
    assert "until" not in line


def test_scim_info_log_warns_once_a_day_per_token(app: Flask, log_dir: Path) -> None:
    token = _token_in_use(app)
    client = app.test_client()
    fingerprint = _fingerprint(app)
    expires = move_token_expiry(app, 6)

    def lines(fp: str | None) -> list[str]:
        return [
            x
            for x in read_log(log_dir, "scim-info.log").splitlines()
            if "token.expiring" in x and f"fingerprint={fp}" in x
        ]

    for _ in range(5):
        assert client.get("/scim/v2/Users", headers=bearer_header(token)).status_code == 200
    logged = lines(fingerprint)
    assert len(logged) == 1, logged
    assert f'expires="{people(expires)}"' in logged[0] and "days_left=6" in logged[0]
    assert token not in read_log(log_dir, "scim-info.log")

    with app.app_context():
        newer = cu.generate_scim_bearer_token(1)
    fresh = _fingerprint(app)
    assert client.get("/scim/v2/Users", headers=bearer_header(newer)).status_code == 200
    assert lines(fresh) == [], "a token far from expiry is not logged"
    move_token_expiry(app, 2)
    for _ in range(3):
        assert client.get("/scim/v2/Users", headers=bearer_header(newer)).status_code == 200
    assert len(lines(fresh)) == 1
    # the next UTC day, the same process writes the line again (``now`` is the day it asks about)
    tomorrow = utcnow() + dt.timedelta(days=1)
    with app.app_context():
        assert token_expiry.log_if_expiring(app, fresh, now=tomorrow) is True
        assert token_expiry.log_if_expiring(app, fresh, now=tomorrow) is False
    assert len(lines(fresh)) == 2 and "days_left=1" in lines(fresh)[-1]
