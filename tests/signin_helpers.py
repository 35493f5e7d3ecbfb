"""Helpers for sign-in and JSON API tests: real SAML through the development IdP, real passwords.

No assertion is forged here: ``saml_sign_in`` drives the browser's part of the exchange (follow
the redirect to the IdP, choose a username on its form, post the signed response it returns to
our ACS) through the Flask test client, so pysaml2 verifies exactly what a real IdP would send.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from scimgate import configuration_utils as cu
from scimgate import dev_idp, saml_config
from scimgate.extensions import db
from scimgate.models import User, UserProfile

BASE_URL = "http://localhost"
ADMIN_PASSWORD = "Admin-password-1234567!"
# A real argon2id hash, made with low cost parameters so each sign-in verifies in about a
# millisecond instead of ~0.4 s (argon2 reads the parameters from the hash; production hashes
# use the library defaults, see scimgate.credentials.hash_password).
ADMIN_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(ADMIN_PASSWORD)


def configure_dev_saml(app: Flask, *, scim: bool = False) -> dict[str, str]:
    """Point SAML at the development IdP; with ``scim``, also enable sync. Returns SCIM headers."""
    headers: dict[str, str] = {}
    with app.app_context():
        saml_config.configure_saml(
            dev_idp.idp_metadata(BASE_URL), sp_entity_id=f"{BASE_URL}/saml/metadata", base_url=BASE_URL
        )
        saml_config.enable_saml()
        if scim:
            cu.update_scim_client("okta")
            headers = {"Authorization": f"Bearer {cu.generate_scim_bearer_token(1)}"}
            cu.enable_scim_user_and_group_sync()
    return headers


def set_scim(app: Flask, enabled: bool) -> None:
    """Put the app in the "SAML, SCIM enabled" or "SAML, SCIM disabled" state of the reference."""
    configure_dev_saml(app, scim=enabled)


class _Form(HTMLParser):
    """Collect the first form's action and its named inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = values.get("action") or ""
        elif tag == "input" and values.get("name"):
            self.fields[values["name"] or ""] = values.get("value") or ""


def parse_form(html: str) -> _Form:
    """Return the first form of a page."""
    form = _Form()
    form.feed(html)
    return form


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def idp_response(
    client: FlaskClient, username: str, next_url: str | None = None, base_url: str = BASE_URL
) -> dict[str, str]:
    """Go to /saml/login, sign in at the development IdP, return the form it posts to our ACS."""
    start = client.get("/saml/login", query_string={"next": next_url} if next_url else None)
    assert start.status_code == 302, start.get_data(as_text=True)
    idp_page = client.get(_local(start.headers["Location"]))
    assert idp_page.status_code == 200
    form = parse_form(idp_page.get_data(as_text=True))
    posted = client.post("/dev-idp/sso", data={**form.fields, "username": username})
    assert posted.status_code == 200
    answer = parse_form(posted.get_data(as_text=True))
    assert answer.action == f"{base_url}/saml/acs"
    return answer.fields


def saml_sign_in(client: FlaskClient, username: str, next_url: str | None = None):
    """Perform a whole SP-initiated SAML sign-in; return our ACS's response."""
    fields = idp_response(client, username, next_url)
    return client.post("/saml/acs", data=fields)


def add_admin(username: str = "admin") -> User:
    """Insert a built-in Server Admin whose password is ADMIN_PASSWORD (inside an app context)."""
    user = User(username=username, is_builtin=True, password_hash=ADMIN_HASH, role="server_admin")
    user.profile = UserProfile(display_name=username)
    db.session.add(user)
    db.session.commit()
    return user


def password_sign_in(client: FlaskClient, username: str, password: str = ADMIN_PASSWORD):
    """Sign in at /login with the form's CSRF token; return the response."""
    page = client.get("/login")
    token = parse_form(page.get_data(as_text=True)).fields["csrf_token"]
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


class Api:
    """A JSON client for /api/v1 that sends this session's CSRF token on changes."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            self._token = self.client.get("/api/v1/session").get_json()["csrf_token"]
        return self._token

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}")

    def _change(self, method: str, path: str, json: Any = None) -> Any:
        return self.client.open(
            f"/api/v1{path}", method=method, json=json, headers={"X-CSRF-Token": self.token()}
        )

    def post(self, path: str, json: Any = None) -> Any:
        return self._change("POST", path, json)

    def put(self, path: str, json: Any = None) -> Any:
        return self._change("PUT", path, json)

    def patch(self, path: str, json: Any = None) -> Any:
        return self._change("PATCH", path, json)

    def delete(self, path: str) -> Any:
        return self._change("DELETE", path)
