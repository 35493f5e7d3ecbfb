"""Every user-supplied redirect target (``next`` of /login and /saml/login, ``back`` of the admin
pages) stays on this site, whatever the encoding tricks (issue 16)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scimgate.extensions import db
from scimgate.models import SamlOutstandingRequest
from tests.support.config import add_local_user
from tests.support.sessions import csrf_from_api
from tests.support.signin import ADMIN_PASSWORD, add_admin, configure_dev_saml, parse_form

HOSTILE = [
    "/\t/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "https:evil.example",
    "https://evil.example/",
    "//evil.example",
    "/\r\n/evil",
    "/\n/evil.example",
    " //evil.example",
    "javascript:alert(1)",
]  # a NUL is refused with 400 before any redirect is made (tests/test_safety_review.py)


def _sign_in_with_next(app: Flask, client: FlaskClient, target: str):
    with app.app_context():
        add_admin()
    form = parse_form(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={**form.fields, "username": "admin", "password": ADMIN_PASSWORD, "next": target}
    )


@pytest.mark.parametrize("target", HOSTILE)
def test_login_next_never_leaves_the_site(app: Flask, client: FlaskClient, target: str) -> None:
    response = _sign_in_with_next(app, client, target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


def test_login_next_keeps_a_local_page(app: Flask, client: FlaskClient) -> None:
    response = _sign_in_with_next(app, client, "/admin/users?q=a%20b")
    assert response.headers["Location"] == "/admin/users?q=a%20b"


@pytest.mark.parametrize("target", HOSTILE)
def test_admin_back_never_leaves_the_site(app: Flask, client: FlaskClient, target: str) -> None:
    _sign_in_with_next(app, client, "/account")
    with app.app_context():
        user_id = add_local_user("someone").id
    token = csrf_from_api(client)
    response = client.post(f"/admin/users/{user_id}/suspend", data={"csrf_token": token, "back": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users"


def test_admin_back_keeps_the_list_page(app: Flask, client: FlaskClient) -> None:
    _sign_in_with_next(app, client, "/account")
    with app.app_context():
        user_id = add_local_user("someone").id
    token = csrf_from_api(client)
    back = "/admin/users?q=some&page=1"
    response = client.post(f"/admin/users/{user_id}/suspend", data={"csrf_token": token, "back": back})
    assert response.headers["Location"] == back


@pytest.mark.parametrize("target", HOSTILE)
def test_saml_next_never_leaves_the_site(app: Flask, client: FlaskClient, target: str) -> None:
    configure_dev_saml(app)
    assert client.get("/saml/login", query_string={"next": target}).status_code == 302
    with app.app_context():
        stored = db.session.execute(db.select(SamlOutstandingRequest.next_url)).scalar_one()
    assert stored == "/"
