"""Helpers for sign-in and JSON API tests: real SAML through the development IdP, real passwords.

No assertion is forged here: ``saml_sign_in`` drives the browser's part of the exchange (follow
the redirect to the IdP, choose a username on its form, post the signed response it returns to
our ACS) through the Flask test client, so pysaml2 verifies exactly what a real IdP would send.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, class_name, samlp
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED, NameID
from saml2.sigver import pre_signature_part, signed_instance_factory
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from scimgate import configuration_utils as cu
from scimgate import create_app
from scimgate.extensions import db
from scimgate.models import User, UserProfile
from scimgate.signin import dev_idp
from scimgate.web import saml_binding

BASE_URL = "http://localhost"
ADMIN_PASSWORD = "Admin-password-1234567!"
# A real argon2id hash, made with low cost parameters so each sign-in verifies in about a
# millisecond instead of ~0.4 s (argon2 reads the parameters from the hash; production hashes
# use the library defaults, see scimgate.conf.credentials.hash_password).
ADMIN_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(ADMIN_PASSWORD)


def configure_dev_saml(app: Flask, *, scim: bool = False) -> dict[str, str]:
    """Point SAML at the development IdP; with ``scim``, also enable sync. Returns SCIM headers."""
    headers: dict[str, str] = {}
    with app.app_context():
        cu.configure_saml(
            dev_idp.idp_metadata(BASE_URL), sp_entity_id=f"{BASE_URL}/saml/metadata", base_url=BASE_URL
        )
        cu.enable_saml()
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


def binding_cookie(client: FlaskClient) -> str | None:
    """The value of the cookie that binds ``client``'s pending SAML sign-in to it, if any."""
    cookie = client.get_cookie(saml_binding.COOKIE_NAME, path="/saml/acs")
    return cookie.value if cookie is not None else None


def give_binding_cookie(client: FlaskClient, value: str) -> None:
    """Put a binding cookie in ``client``'s jar (as when one browser's cookie was copied)."""
    client.set_cookie(saml_binding.COOKIE_NAME, value, path="/saml/acs")


def saml_sign_in(client: FlaskClient, username: str, next_url: str | None = None):
    """Perform a whole SP-initiated SAML sign-in; return our ACS's response."""
    fields = idp_response(client, username, next_url)
    return client.post("/saml/acs", data=fields)


def crafted_response(
    app: Flask,
    client: FlaskClient,
    username: str | None,
    *,
    edit: Callable[[samlp.Response], None] | None = None,
    attributes: dict[str, list[str]] | None = None,
    sign_alg: str = SIG_RSA_SHA256,
    digest_alg: str = DIGEST_SHA256,
    sign_response: bool = True,
    unsolicited: bool = False,
    relay_state: str = "",
) -> dict[str, str]:
    """Start a sign-in with ``client``, then build the development IdP's answer by hand and sign it.

    With ``unsolicited`` no sign-in is started: the answer is IdP-initiated (no InResponseTo,
    addressed as the development IdP's dashboard addresses it) and carries ``relay_state``.

    The response is what the development IdP would send, except for what ``edit`` changes on the
    pysaml2 Response object before signing (a wrong Recipient, no Destination, no NameID...), the
    ``attributes`` it asserts and the signature algorithms. Both the assertion and the response
    are then signed for real with the development key (pysaml2 running xmlsec1), so the SP under
    test sees a correctly signed document carrying exactly the defect under test.
    ``username=None`` asserts no NameID at all.
    """
    saml_request = None
    if not unsolicited:
        start = client.get("/saml/login")
        assert start.status_code == 302, start.get_data(as_text=True)
        saml_request = parse_qs(urlsplit(start.headers["Location"]).query)["SAMLRequest"][0]
    with app.test_request_context(base_url=BASE_URL):
        server = dev_idp.idp_server()
        if saml_request is None:
            args = dev_idp.unsolicited_args()
        else:
            parsed = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
            args = server.response_args(parsed.message, [BINDING_HTTP_POST])
            args.pop("binding", None)
        response = server.create_authn_response(
            identity=attributes if attributes is not None else {"uid": [username or "nobody"]},
            userid=username or "",
            name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=username) if username is not None else None,
            authn={"class_ref": dev_idp.PASSWORD_PROTECTED, "authn_auth": server.config.entityid},
            sign_assertion=False,
            sign_response=False,
            **args,
        )
        if username is None:
            response.assertion.subject.name_id = None
        if edit is not None:
            edit(response)
        assertion = response.assertion
        cert = server.sec.my_cert
        assertion.signature = pre_signature_part(
            assertion.id, cert, 2, sign_alg=sign_alg, digest_alg=digest_alg
        )
        to_sign = [(class_name(assertion), assertion.id)]
        if sign_response:
            response.signature = pre_signature_part(
                response.id, cert, 1, sign_alg=sign_alg, digest_alg=digest_alg
            )
            to_sign.append((class_name(response), response.id))
        signed = signed_instance_factory(response, server.sec, to_sign)
    xml = signed if isinstance(signed, str) else signed.decode("utf-8")
    return {"SAMLResponse": base64.b64encode(xml.encode("utf-8")).decode("ascii"), "RelayState": relay_state}


def dashboard_response(client: FlaskClient, username: str, relay_state: str = "") -> dict[str, str]:
    """Open scimgate from the development IdP's dashboard; return the unsolicited form it posts."""
    posted = client.post("/dev-idp/start", data={"username": username, "RelayState": relay_state})
    assert posted.status_code == 200, posted.get_data(as_text=True)
    answer = parse_form(posted.get_data(as_text=True))
    assert answer.action == f"{BASE_URL}/saml/acs"
    return answer.fields


def confirm_token(page: str) -> str:
    """The token of the "Continue signing in?" page's form (an IdP-initiated sign-in)."""
    return parse_form(page).fields["confirm_token"]


def sibling_app(app: Flask) -> Flask:
    """Another instance of scimgate on the same database (another worker or node)."""
    shared = ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "LOG_DIR", "SECRET_KEY")
    return create_app("testing", overrides={key: app.config[key] for key in shared})


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
