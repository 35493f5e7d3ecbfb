"""Issue 16: control characters, line breaks and bidi overrides never enter a stored name, and
every CLI prints stored names escaped (a CR/LF cannot forge an audit line, an ESC/OSC sequence
cannot reach the admin's terminal). Values stored before the rule keep working and print escaped."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from scimgate import cli
from scimgate.accounts import users
from scimgate.accounts.errors import AccountError
from scimgate.extensions import db
from scimgate.scim import safe_text, urns
from tests.support.bad_input import assert_scim_error, csrf_token
from tests.support.config import add_group, add_pushed_user
from tests.support.signin import ADMIN_PASSWORD, add_admin, configure_dev_saml, password_sign_in, saml_sign_in

# (the character(s) slipped into a name, the code point the detail names)
UNSAFE = [
    pytest.param("\r\n2026-01-01T00:00:00Z cli:root user.deleted", "U+000D", id="CRLF"),
    pytest.param("\n", "U+000A", id="LF"),
    pytest.param("\x1b]0;owned\x07", "U+001B", id="OSC-title"),
    pytest.param("\x1b[2J", "U+001B", id="ESC-clear-screen"),
    pytest.param("\t", "U+0009", id="TAB"),
    pytest.param("\x7f", "U+007F", id="DEL"),
    pytest.param("\x85", "U+0085", id="C1-NEL"),
    pytest.param("\x9b31m", "U+009B", id="C1-CSI"),
    pytest.param("\u2028", "U+2028", id="LINE-SEPARATOR"),
    pytest.param("\u2029", "U+2029", id="PARAGRAPH-SEPARATOR"),
    pytest.param("\u202egnp.exe", "U+202E", id="RIGHT-TO-LEFT-OVERRIDE"),
    pytest.param("\u2066x\u2069", "U+2066", id="LEFT-TO-RIGHT-ISOLATE"),
    pytest.param("\u200f", "U+200F", id="RIGHT-TO-LEFT-MARK"),
]

USER_FIELDS = [
    pytest.param(lambda bad: {"userName": f"ann{bad}"}, "userName", id="userName"),
    pytest.param(lambda bad: {"name": {"givenName": f"Ann{bad}"}}, "name.givenName", id="givenName"),
    pytest.param(lambda bad: {"name": {"familyName": f"Lee{bad}"}}, "name.familyName", id="familyName"),
    pytest.param(lambda bad: {"displayName": f"Ann Lee{bad}"}, "displayName", id="displayName"),
    pytest.param(lambda bad: {"emails": [{"value": f"ann{bad}@x.org"}]}, "emails.value", id="email"),
    pytest.param(lambda bad: {"externalId": f"00u1{bad}"}, "externalId", id="externalId"),
]


def _user(**extra):
    return {"schemas": [urns.USER], "userName": "ann", **extra}


def _patch(*operations):
    return {"schemas": [urns.PATCH_OP], "Operations": list(operations)}


# --- SCIM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("bad", "code"), UNSAFE)
@pytest.mark.parametrize(("make", "attribute"), USER_FIELDS)
def test_user_create_refuses_unsafe_characters(scim, make, attribute, bad, code):
    response = scim.post("/Users", json=_user(**make(bad)))
    assert_scim_error(response, 400, "invalidValue", attribute, code)
    assert scim.get("/Users").get_json()["totalResults"] == 0


@pytest.mark.parametrize(("bad", "code"), UNSAFE)
def test_user_replace_and_patch_refuse_unsafe_characters_and_change_nothing(scim, bad, code):
    user = scim.post("/Users", json=_user(displayName="Ann", name={"givenName": "Ann"})).get_json()
    path = f"/Users/{user['id']}"
    assert_scim_error(
        scim.put(path, json=_user(displayName=f"A{bad}")), 400, "invalidValue", "displayName", code
    )
    assert_scim_error(scim.put(path, json=_user(userName=f"a{bad}")), 400, "invalidValue", "userName", code)
    for operation in (
        {"op": "replace", "path": "userName", "value": f"a{bad}"},
        {"op": "replace", "path": "name.givenName", "value": f"A{bad}"},
        {"op": "replace", "value": {"displayName": f"A{bad}"}},  # path-less (Okta, SailPoint)
        {"op": "add", "path": 'emails[type eq "work"].value', "value": f"a{bad}@x.org"},  # Entra
    ):
        assert_scim_error(scim.patch(path, json=_patch(operation)), 400, "invalidValue", code)
    assert scim.get(path).get_json() == user


@pytest.mark.parametrize(("bad", "code"), UNSAFE)
def test_group_create_replace_and_patch_refuse_unsafe_characters(scim, bad, code):
    refused = scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": f"Team{bad}"})
    assert_scim_error(refused, 400, "invalidValue", "displayName", code)
    group = scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "Team"}).get_json()
    path = f"/Groups/{group['id']}"
    renamed = {"schemas": [urns.GROUP], "displayName": f"Team{bad}"}
    assert_scim_error(scim.put(path, json=renamed), 400, "invalidValue", "displayName", code)
    for operation in (
        {"op": "replace", "path": "displayName", "value": f"T{bad}"},
        {"op": "replace", "value": {"id": group["id"], "displayName": f"T{bad}"}},  # Okta's rename
        {"op": "replace", "path": "externalId", "value": f"x{bad}"},
    ):
        assert_scim_error(scim.patch(path, json=_patch(operation)), 400, "invalidValue", code)
    assert scim.get(path).get_json() == group
    assert scim.get("/Groups").get_json()["totalResults"] == 1


@pytest.mark.parametrize(
    "name",
    [
        "CORP\\ann",  # a Windows down-level logon name
        "Zoë Ñúñez-O'Brien",
        "山田 太郎",
        "عائشة",
        "👩\u200d💻 dev",  # ZERO WIDTH JOINER inside an emoji sequence
        "कृष्ण\u200c",  # ZERO WIDTH NON-JOINER, used by Indic scripts
    ],
)
def test_ordinary_names_are_stored_as_sent(scim, name):
    user = scim.post("/Users", json=_user(userName=name, displayName=name, name={"givenName": name}))
    assert user.status_code == 201, user.get_json()
    assert user.get_json()["userName"] == user.get_json()["displayName"] == name
    group = scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": name})
    assert group.status_code == 201 and group.get_json()["displayName"] == name


def _legacy_user(app: Flask, username: str) -> str:
    """A user pushed before the rule existed, its names holding control characters."""
    with app.app_context():
        user = add_pushed_user(username)
        user.profile.display_name = f"Legacy{chr(0x1B)}[31m red"
        db.session.commit()
        return user.scim.scim_user_uuid


def test_values_stored_before_the_rule_do_not_block_changes(app, scim):
    """An IdP still holding the old value must be able to deactivate the user (PATCH or a whole
    PUT carrying the old names), or an offboarded person would keep their access."""
    scim_id = _legacy_user(app, "old\r\nname")
    path = f"/Users/{scim_id}"
    stored = scim.get(path).get_json()
    assert stored["userName"] == "old\r\nname"
    off = scim.patch(path, json=_patch({"op": "replace", "value": {"active": False}}))
    assert off.status_code == 200, off.get_json()
    put = {key: stored[key] for key in ("schemas", "userName", "displayName", "name", "emails")}
    again = scim.put(path, json={**put, "active": True})
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["displayName"] == stored["displayName"]
    # a new unsafe value is refused even in a record that already has one
    changed = scim.patch(path, json=_patch({"op": "replace", "path": "displayName", "value": "x\x1b"}))
    assert_scim_error(changed, 400, "invalidValue", "displayName", "U+001B")
    fixed = scim.patch(path, json=_patch({"op": "replace", "path": "userName", "value": "old.name"}))
    assert fixed.status_code == 200 and fixed.get_json()["userName"] == "old.name"


def test_a_legacy_group_name_can_be_kept_on_replace(app, scim):
    with app.app_context():
        group = add_group("Ops\x1b[5m", [])
        scim_id = group.scim.scim_group_uuid
    body = {"schemas": [urns.GROUP], "displayName": "Ops\x1b[5m", "members": []}
    assert scim.put(f"/Groups/{scim_id}", json=body).status_code == 200
    renamed = scim.patch(
        f"/Groups/{scim_id}", json=_patch({"op": "replace", "path": "displayName", "value": "Ops"})
    )
    assert renamed.status_code == 200 and renamed.get_json()["displayName"] == "Ops"


# --- the application's own paths: /api/v1, the admin pages, the CLI, SAML-created accounts ----------


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """A signed-in built-in Server Admin (SAML on with the development IdP, SCIM off)."""
    configure_dev_saml(app)
    with app.app_context():
        add_admin()
    assert password_sign_in(client, "admin").status_code == 302
    return client


def _api(client: FlaskClient, method: str, path: str, body: dict):
    return client.open(
        f"/api/v1{path}", method=method, json=body, headers={"X-CSRF-Token": csrf_token(client)}
    )


@pytest.mark.parametrize(("bad", "code"), UNSAFE)
def test_admin_api_refuses_unsafe_names(app, admin, bad, code):
    me = admin.get("/api/v1/session").get_json()["user"]
    group = _api(admin, "POST", "/groups", {"name": "plain"}).get_json()
    before = admin.get(f"/api/v1/users/{me['id']}").get_json()
    for method, path, body in [
        ("POST", "/groups", {"name": f"g{bad}"}),
        ("PATCH", f"/groups/{group['id']}", {"name": f"g{bad}"}),
        ("PATCH", f"/users/{me['id']}/profile", {"display_name": f"Me{bad}"}),
        ("PATCH", f"/users/{me['id']}/profile", {"email": f"me{bad}@x.org"}),
    ]:
        response = _api(admin, method, path, body)
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["error"] == "invalid_value"
        assert code in response.get_json()["detail"]
    groups = admin.get("/api/v1/groups").get_json()["groups"]
    assert [g["name"] for g in groups] == ["plain"]
    assert admin.get(f"/api/v1/users/{me['id']}").get_json() == before


def _page_csrf(client: FlaskClient) -> str:
    html = client.get("/admin/groups").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize(
    ("bad", "code"), [("\x1b]0;x\x07", "U+001B"), ("\x00", "U+0000"), ("a\u202eb", "U+202E")]
)
def test_admin_pages_refuse_unsafe_group_names(app, admin, bad, code):
    created = admin.post("/admin/groups", data={"csrf_token": _page_csrf(admin), "name": f"team{bad}"})
    assert created.status_code == 400
    assert code in created.get_data(as_text=True)
    assert admin.get("/api/v1/groups").get_json()["groups"] == []


@pytest.mark.parametrize(("bad", "code"), UNSAFE)
def test_cli_admin_create_refuses_unsafe_usernames(runner: FlaskCliRunner, app, bad, code):
    result = runner.invoke(
        cli.main, ["admin", "create", f"root{bad}", "--password-stdin"], input=ADMIN_PASSWORD + "\n"
    )
    assert result.exit_code == 1
    assert code in result.output
    assert "\x1b" not in result.output and "\r" not in result.output
    with app.app_context():
        assert users.all_users() == []


@pytest.mark.parametrize(("bad", "code"), UNSAFE)
def test_saml_created_accounts_follow_the_same_rule(app, bad, code):
    """``create_saml_user`` (what /saml/acs calls for an unknown user) applies the one rule."""
    with app.app_context(), pytest.raises(AccountError, match=re.escape(code)):
        users.create_saml_user(f"ann{bad}", pending=False)
    assert safe_text.unsafe_character_problem(f"ann{bad}", "userName") is not None


@pytest.mark.parametrize(("bad", "code"), [("\u202e", "U+202E"), ("\n", "U+000A"), ("\x85", "U+0085")])
def test_saml_sign_in_with_such_a_name_is_refused_not_a_500(app, client, bad, code):
    """A real SAML exchange with the development IdP: the NameID carries the character."""
    configure_dev_saml(app)
    response = saml_sign_in(client, f"ann{bad}b")
    assert response.status_code == 403  # the sign-in refusal page for an unusable username
    assert "Sign-in failed" in response.get_data(as_text=True)
    with app.app_context():
        assert users.all_users() == []
