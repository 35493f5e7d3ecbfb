"""Authentication of /scim/v2 (RFC 7644 §2): Basic and Bearer, 401 shape, reasons logged, 403 off."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from scimgate import configuration_utils as cu
from scimgate.api import auth
from scimgate.conf import credentials
from scimgate.conf import keys as K
from scimgate.extensions import db
from scimgate.models import ConfEntry
from tests.support.config import PASSWORD, SPC, USERNAME, basic_header, bearer_header, lines_with
from tests.support.scim import configure_scim

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def token(app: Flask) -> str:
    """Fully configured SCIM with both credentials; return the bearer token."""
    headers = configure_scim(app)
    with app.app_context():
        cu.set_scim_basic_auth_username(USERNAME)
        cu.set_scim_basic_auth_password(PASSWORD)
    return headers["Authorization"].split(" ", 1)[1]


def _assert_401(response, log_dir: Path, reason: str) -> None:
    """The 401 carries a fixed SCIM body and challenges; the reason is only in scim-info.log."""
    assert response.status_code == 401
    assert response.mimetype == "application/scim+json"
    assert response.get_json() == {
        "schemas": [ERROR_URN],
        "status": "401",
        "detail": auth.UNAUTHORIZED_DETAIL,
    }
    assert response.headers.getlist("WWW-Authenticate")
    assert reason not in response.get_data(as_text=True)
    request_id = response.headers["X-Request-Id"]
    failures = [line for line in lines_with(log_dir, "scim-info.log", request_id) if "auth.failed" in line]
    assert len(failures) == 1, failures
    assert reason in failures[0]
    assert "remote=127.0.0.1" in failures[0]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "BeArEr"])
def test_bearer_token_is_accepted_whatever_the_scheme_case(
    client: FlaskClient, token: str, scheme: str
) -> None:
    response = client.get(SPC, headers=bearer_header(token, scheme))
    assert response.status_code == 200


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"])
def test_basic_is_accepted_whatever_the_scheme_case(client: FlaskClient, token: str, scheme: str) -> None:
    response = client.get(SPC, headers=basic_header(USERNAME, PASSWORD, scheme))
    assert response.status_code == 200


def test_principal_is_logged_not_the_secret(client: FlaskClient, token: str, log_dir: Path) -> None:
    response = client.get(SPC, headers=basic_header(USERNAME, PASSWORD))
    (line,) = lines_with(log_dir, "scim-info.log", response.headers["X-Request-Id"])
    assert f"principal=basic:{USERNAME}" in line
    response = client.get(SPC, headers=bearer_header(token))
    (line,) = lines_with(log_dir, "scim-info.log", response.headers["X-Request-Id"])
    assert "principal=token:" in line
    assert token not in line


def test_missing_credentials(client: FlaskClient, token: str, log_dir: Path) -> None:
    _assert_401(client.get(SPC), log_dir, 'reason="no credentials"')


def test_401_challenges_name_the_configured_schemes(client: FlaskClient, token: str) -> None:
    response = client.get(SPC)
    assert response.headers.getlist("WWW-Authenticate") == [
        'Bearer realm="scimgate SCIM"',
        'Basic realm="scimgate SCIM", charset="UTF-8"',
    ]


def test_401_with_token_only_offers_bearer(client: FlaskClient, scim_headers: dict[str, str]) -> None:
    response = client.get("/scim/v2/Users")
    assert response.headers.getlist("WWW-Authenticate") == ['Bearer realm="scimgate SCIM"']


def test_wrong_password(client: FlaskClient, token: str, log_dir: Path) -> None:
    response = client.get(SPC, headers=basic_header(USERNAME, PASSWORD + "x"))
    _assert_401(response, log_dir, 'reason="wrong password"')


def test_unknown_user(client: FlaskClient, token: str, log_dir: Path) -> None:
    response = client.get(SPC, headers=basic_header("someone_else", PASSWORD))
    _assert_401(response, log_dir, 'reason="unknown user"')


def test_unknown_token(client: FlaskClient, token: str, log_dir: Path) -> None:
    response = client.get(SPC, headers=bearer_header(token[:-4] + "AAAA"))
    _assert_401(response, log_dir, 'reason="unknown token"')


def test_replaced_token_is_revoked_immediately(
    app: Flask, client: FlaskClient, token: str, log_dir: Path
) -> None:
    with app.app_context():
        new_token = cu.generate_scim_bearer_token(1)
    _assert_401(client.get(SPC, headers=bearer_header(token)), log_dir, "revoked token")
    assert client.get(SPC, headers=bearer_header(new_token)).status_code == 200


def test_expired_token(app: Flask, client: FlaskClient, token: str, log_dir: Path) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(ConfEntry).where(ConfEntry.key == K.TOKEN_EXPIRES).values(value='"2020-01-01T00:00:00"')
        )
        db.session.commit()
        assert cu.get_scim_bearer_token()["expired"] is True
    _assert_401(client.get(SPC, headers=bearer_header(token)), log_dir, "expired token")


def test_unsupported_scheme(client: FlaskClient, token: str, log_dir: Path) -> None:
    response = client.get(SPC, headers={"Authorization": 'Digest username="x"'})
    _assert_401(response, log_dir, "scheme not allowed")


def test_malformed_basic(client: FlaskClient, token: str, log_dir: Path) -> None:
    response = client.get(SPC, headers={"Authorization": "Basic !!!not-base64"})
    _assert_401(response, log_dir, "malformed credentials")


def test_basic_when_only_a_token_is_configured(
    client: FlaskClient, scim_headers: dict[str, str], log_dir: Path
) -> None:
    response = client.get(SPC, headers=basic_header(USERNAME, PASSWORD))
    _assert_401(response, log_dir, "scheme not allowed: basic authentication is not configured")


def test_changed_password_is_refused_at_once_despite_the_cache(
    app: Flask, client: FlaskClient, token: str, log_dir: Path
) -> None:
    assert client.get(SPC, headers=basic_header(USERNAME, PASSWORD)).status_code == 200
    with app.app_context():
        cu.set_scim_basic_auth_password(PASSWORD + "2")
    _assert_401(client.get(SPC, headers=basic_header(USERNAME, PASSWORD)), log_dir, "wrong password")
    assert client.get(SPC, headers=basic_header(USERNAME, PASSWORD + "2")).status_code == 200


def test_changed_username_is_refused_at_once_despite_the_cache(
    app: Flask, client: FlaskClient, token: str, log_dir: Path
) -> None:
    assert client.get(SPC, headers=basic_header(USERNAME, PASSWORD)).status_code == 200
    with app.app_context():
        cu.set_scim_basic_auth_username("renamed_account")
    _assert_401(client.get(SPC, headers=basic_header(USERNAME, PASSWORD)), log_dir, "unknown user")
    assert client.get(SPC, headers=basic_header("renamed_account", PASSWORD)).status_code == 200


def test_successful_password_check_is_remembered_briefly(app: Flask, client: FlaskClient, token: str) -> None:
    credentials.forget_verified_passwords()
    assert client.get(SPC, headers=basic_header(USERNAME, PASSWORD)).status_code == 200
    assert len(credentials._cache) == 1
    app.config["SCIM_AUTH_CACHE_SECONDS"] = 0
    try:
        credentials.forget_verified_passwords()
        assert client.get(SPC, headers=basic_header(USERNAME, PASSWORD)).status_code == 200
        assert credentials._cache == {}
    finally:
        app.config["SCIM_AUTH_CACHE_SECONDS"] = 300


def test_sync_disabled_is_403_after_authentication(app: Flask, client: FlaskClient, token: str) -> None:
    with app.app_context():
        cu.disable_sync_from_directory_provider()
    response = client.get("/scim/v2/Users", headers=bearer_header(token))
    assert response.status_code == 403
    assert response.mimetype == "application/scim+json"
    body = response.get_json()
    assert body["schemas"] == [ERROR_URN]
    assert body["status"] == "403"
    assert "SCIM sync is disabled" in body["detail"]
    assert "scimgate scim enable" in body["detail"]
    # bad credentials still get 401, not a hint about the sync state
    assert client.get("/scim/v2/Users", headers=bearer_header("nope")).status_code == 401


def test_every_scim_route_is_protected(client: FlaskClient, token: str) -> None:
    for method, path in [
        ("GET", "/scim/v2/Users"),
        ("POST", "/scim/v2/Users"),
        ("GET", "/scim/v2/Groups"),
        ("PATCH", "/scim/v2/Groups/abc"),
        ("DELETE", "/scim/v2/Users/abc"),
        ("GET", "/scim/v2/Schemas"),
        ("GET", "/scim/v2/ResourceTypes"),
        ("GET", SPC),
    ]:
        assert client.open(path, method=method).status_code == 401, (method, path)
