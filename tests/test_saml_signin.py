"""Real SAML sign-in: the development IdP signs, pysaml2 verifies, a session starts (or a page
says why not). Nothing is mocked: each test drives the browser's side of the exchange."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from scimgate import cli
from scimgate import configuration_utils as cu
from scimgate.accounts import settings
from scimgate.extensions import db
from scimgate.models import SamlOutstandingRequest, User
from scimgate.signin import dev_idp, saml_sp
from tests.support.config import add_pushed_user, lines_with, sibling_app
from tests.support.signin import (
    BASE_URL,
    Api,
    add_admin,
    binding_cookie,
    configure_dev_saml,
    give_binding_cookie,
    idp_response,
    password_sign_in,
    saml_sign_in,
)

SCIM_USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "bjensen@example.com",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "emails": [{"value": "bjensen@example.com", "primary": True}],
    "active": True,
}


def _push(client: FlaskClient, headers: dict[str, str], **changes: object) -> str:
    created = client.post("/scim/v2/Users", json={**SCIM_USER, **changes}, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    return created.get_json()["id"]


def _refusal(response) -> str:
    assert response.status_code == 403, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_scim_pushed_active_user_signs_in(app: Flask, client: FlaskClient) -> None:
    headers = configure_dev_saml(app, scim=True)
    _push(client, headers)
    signed = saml_sign_in(client, "bjensen@example.com", next_url="/api/v1/session")
    assert signed.status_code == 302
    assert signed.headers["Location"] == "/api/v1/session"
    me = client.get("/api/v1/session").get_json()["user"]
    assert (me["username"], me["kind"], me["scim_managed"], me["status"]) == (
        "bjensen@example.com",
        "scim",
        True,
        "active",
    )


def test_deactivated_by_the_idp_is_refused_with_a_page(app: Flask, client: FlaskClient) -> None:
    headers = configure_dev_saml(app, scim=True)
    _push(client, headers, active=False)
    page = _refusal(saml_sign_in(client, "bjensen@example.com"))
    assert "Your account is deactivated" in page
    assert client.get("/api/v1/session").status_code == 401


def test_suspended_user_is_refused_with_a_page(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app, scim=True)
    with app.app_context():
        add_pushed_user("suspended.user", suspended=True)
    page = _refusal(saml_sign_in(client, "suspended.user"))
    assert "Your account is suspended" in page
    assert 'data-reason="suspended"' in page
    assert client.get("/api/v1/session").status_code == 401


def test_unknown_user_is_created_as_a_saml_account(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app, scim=True)
    assert saml_sign_in(client, "newcomer").status_code == 302
    me = client.get("/api/v1/session").get_json()["user"]
    assert (me["kind"], me["scim_managed"], me["status"], me["role"]) == ("saml", False, "active", "viewer")
    assert "Signed in as newcomer" in client.get("/account").get_data(as_text=True)


def test_moderation_makes_a_new_saml_account_wait_for_approval(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app, scim=False)
    with app.app_context():
        settings.write({"moderation": True})
        add_admin()
    page = _refusal(saml_sign_in(client, "newcomer"))
    assert "waiting for approval" in page
    admin = app.test_client()
    assert password_sign_in(admin, "admin").status_code == 302
    pending = next(u for u in Api(admin).get("/users").get_json()["users"] if u["username"] == "newcomer")
    assert pending["status"] == "pending_approval"
    assert Api(admin).post(f"/users/{pending['id']}/activate").status_code == 200
    assert saml_sign_in(client, "newcomer").status_code == 302


def test_moderation_does_not_apply_while_scim_is_on(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app, scim=False)
    with app.app_context():
        settings.write({"moderation": True})
    configure_dev_saml(app, scim=True)
    assert saml_sign_in(client, "newcomer").status_code == 302


def test_usernames_match_exactly_case_sensitive(app: Flask, client: FlaskClient) -> None:
    """``BJensen`` does not open ``bjensen``'s account, nor silently get a look-alike of its own."""
    headers = configure_dev_saml(app, scim=True)
    _push(client, headers)
    assert "look like an existing account" in _refusal(saml_sign_in(client, "BJensen@example.com"))
    assert client.get("/api/v1/session").status_code == 401
    with app.app_context():
        names = sorted(db.session.scalars(sa.select(User.username)))
    assert names == ["bjensen@example.com"]
    assert saml_sign_in(client, "bjensen@example.com").status_code == 302
    assert client.get("/api/v1/session").get_json()["user"]["kind"] == "scim"


def test_builtin_username_cannot_sign_in_through_the_idp(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    with app.app_context():
        add_admin("admin")
    assert "built-in account" in _refusal(saml_sign_in(client, "admin"))


def test_a_response_is_accepted_once(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    fields = idp_response(client, "alice")
    cookie = binding_cookie(client)
    assert cookie is not None
    assert client.post("/saml/acs", data=fields).status_code == 302
    replayer = app.test_client()
    give_binding_cookie(replayer, cookie)  # even with the browser's cookie, the replay fails
    assert "could not be verified" in _refusal(replayer.post("/saml/acs", data=fields))


def test_the_replay_guard_is_shared_by_processes(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    """A request started on one node is finished on another; the replay fails on the first."""
    configure_dev_saml(app)
    fields = idp_response(client, "alice")
    other = sibling_app(app, tmp_path / "logs")
    same_browser = other.test_client()  # the same browser (its cookie) reaching another node
    give_binding_cookie(same_browser, binding_cookie(client) or "")
    assert same_browser.post("/saml/acs", data=fields).status_code == 302
    _refusal(client.post("/saml/acs", data=fields))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SamlOutstandingRequest)) == 0


def test_a_tampered_assertion_is_refused(app: Flask, client: FlaskClient, log_dir: Path) -> None:
    configure_dev_saml(app)
    fields = idp_response(client, "alice")
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert ">alice</ns1:NameID>" in xml or ">alice<" in xml
    forged = base64.b64encode(xml.replace(">alice<", ">admin<").encode()).decode()
    refused = client.post("/saml/acs", data={**fields, "SAMLResponse": forged})
    _refusal(refused)
    reason = lines_with(log_dir, "scim-info.log", refused.headers["X-Request-Id"])
    assert any("signin.refused" in line and "SignatureError" in line for line in reason)
    with app.app_context():
        assert db.session.scalar(sa.select(User.id).where(User.username == "admin")) is None


def test_a_response_to_an_unknown_request_is_refused(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    fields = idp_response(client, "alice")
    with app.app_context():
        db.session.execute(sa.delete(SamlOutstandingRequest))
        db.session.commit()
    _refusal(client.post("/saml/acs", data=fields))


@pytest.mark.parametrize(
    "change",
    [{"sp_entity_id": "https://other.example/saml/metadata"}, {"base_url": "http://elsewhere.example"}],
    ids=["wrong_audience", "wrong_destination"],
)
def test_a_response_meant_for_another_sp_is_refused(app: Flask, client: FlaskClient, change: dict) -> None:
    configure_dev_saml(app)
    fields = idp_response(client, "alice")
    with app.app_context():
        cu.configure_saml(dev_idp.idp_metadata(BASE_URL), **change)
    _refusal(client.post("/saml/acs", data=fields))


def test_a_response_signed_by_another_idp_key_is_refused(app: Flask, client: FlaskClient) -> None:
    """Metadata naming another certificate (the test IdP's) makes the dev IdP's signature invalid."""
    configure_dev_saml(app)
    fields = idp_response(client, "alice")
    other_cert = (Path(__file__).parent / "data" / "idp-metadata.xml").read_text()
    start = other_cert.index("<ds:X509Certificate>")
    end = other_cert.index("</ds:X509Certificate>")
    ours = dev_idp.idp_metadata(BASE_URL)
    swapped = (
        ours[: ours.index("<ds:X509Certificate>")]
        + other_cert[start:end]
        + ours[ours.index("</ds:X509Certificate>") :]
    )
    with app.app_context():
        cu.configure_saml(swapped)
    _refusal(client.post("/saml/acs", data=fields))


def test_session_ends_when_the_idp_deactivates_the_user(app: Flask, client: FlaskClient) -> None:
    headers = configure_dev_saml(app, scim=True)
    scim_id = _push(client, headers)
    assert saml_sign_in(client, "bjensen@example.com").status_code == 302
    assert client.get("/api/v1/session").status_code == 200
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    assert client.patch(f"/scim/v2/Users/{scim_id}", json=patch, headers=headers).status_code == 200
    assert client.get("/api/v1/session").status_code == 401


def test_logout_ends_the_session(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    assert saml_sign_in(client, "alice").status_code == 302
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    assert client.post("/logout", data={}).status_code == 400  # no CSRF token
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/v1/session").status_code == 401


def test_username_from_a_configured_attribute(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    with app.app_context():
        saml_sp.set_username_attribute("uid")
    assert saml_sign_in(client, "carol").status_code == 302
    assert client.get("/api/v1/session").get_json()["user"]["username"] == "carol"


def test_sp_metadata_names_our_entity_id_and_acs(app: Flask, client: FlaskClient) -> None:
    assert client.get("/saml/metadata").status_code == 404  # SAML not configured yet
    configure_dev_saml(app)
    xml = client.get("/saml/metadata").get_data(as_text=True)
    assert f'entityID="{BASE_URL}/saml/metadata"' in xml
    assert f'Location="{BASE_URL}/saml/acs"' in xml
    assert "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" in xml
    assert 'WantAssertionsSigned="true"' in xml


def test_next_url_never_leaves_the_site(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    signed = saml_sign_in(client, "alice", next_url="//evil.example/x")
    assert signed.headers["Location"] == "/"


def test_dev_idp_exists_only_when_enabled(app: Flask, tmp_path: Path) -> None:
    production_like = sibling_app(app, tmp_path / "logs", DEV_IDP_ENABLED=False)
    assert production_like.test_client().get("/dev-idp/sso").status_code == 404
    assert app.test_client().get("/dev-idp/sso").status_code == 400  # registered, but no SAMLRequest


def test_builtin_admin_signs_in_with_a_password(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_admin("root")
    page = client.get("/login").get_data(as_text=True)
    assert "sign up" not in page.lower()
    assert password_sign_in(client, "root", "wrong-password").status_code == 401
    assert password_sign_in(client, "Root").status_code == 401  # usernames are case-sensitive
    assert client.post("/login", data={"username": "root", "password": "x"}).status_code == 400  # no CSRF
    assert password_sign_in(client, "root").status_code == 302
    assert client.get("/api/v1/session").get_json()["user"]["role"] == "server_admin"


def test_saml_accounts_have_no_password_sign_in(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    assert saml_sign_in(app.test_client(), "alice").status_code == 302
    assert password_sign_in(client, "alice", "").status_code == 401


def test_dev_bootstrap_gives_a_working_sign_in(app: Flask, client: FlaskClient) -> None:
    """The README's run command (`scripts/serve` runs `scimgate dev bootstrap`) offers sign-in."""
    result = app.test_cli_runner().invoke(cli.main, ["dev", "bootstrap"])
    assert result.exit_code == 0, result.output
    assert "sign in: http://localhost:5000/saml/login" in result.output
    fields = idp_response(client, "newcomer", base_url="http://localhost:5000")
    assert client.post("/saml/acs", data=fields).status_code == 302
    assert client.get("/api/v1/session").get_json()["user"]["username"] == "newcomer"
