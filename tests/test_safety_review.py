"""Adversarial review of issue #16: the holes found around each item, tried through the real
interfaces as the IdP (a valid SCIM token), an anonymous client, a cross-site page and a hurried
admin would try them."""

from __future__ import annotations

import base64
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from saml2 import samlp

from scimgate import cli
from scimgate.accounts import admins, settings, users
from scimgate.accounts import groups as app_groups
from scimgate.extensions import db
from scimgate.models import SamlOutstandingRequest
from scimgate.scim import urns
from tests.support.bad_input import assert_scim_error
from tests.support.scim import ScimClient, configure_scim
from tests.support.sessions import csrf_from_api, replaying, session_cookie
from tests.support.signin import (
    ADMIN_PASSWORD,
    add_admin,
    configure_dev_saml,
    crafted_response,
    parse_form,
    password_sign_in,
)

DIGITS = "1" * 5000


# --- bad input in query parameters: never a 500 --------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"filter": f"meta.version eq {DIGITS}"},
        {"filter": f"userName eq {DIGITS}"},
        {"filter": f"title gt {DIGITS}.5"},
        {"filter": "userName eq 1e999999"},
        {"startIndex": DIGITS},
        {"count": DIGITS},
        {"startIndex": "-" + DIGITS},
    ],
    ids=["version", "userName", "float", "exponent", "startIndex", "count", "negative-startIndex"],
)
def test_huge_numbers_in_query_parameters_are_400(scim: ScimClient, query: dict[str, str]) -> None:
    for path in ("/Users", "/Groups"):
        response = scim.get(path, query_string=query)
        assert response.status_code == 400, response.get_data(as_text=True)[:300]
        assert response.get_json()["scimType"] in {"invalidValue", "invalidFilter"}


def test_huge_numbers_in_a_search_body_are_400(scim: ScimClient) -> None:
    body = f'{{"schemas": ["{urns.SEARCH_REQUEST}"], "filter": "meta.version eq {DIGITS}", "startIndex": 1}}'
    for path in ("/Users/.search", "/Groups/.search", "/.search"):
        response = scim.post(path, data=body, headers={"Content-Type": "application/scim+json"})
        assert response.status_code == 400, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("value", ['"a\\u0000b"', '"\\u0000"'], ids=["inner-NUL", "only-NUL"])
def test_nul_in_a_filter_string_is_400(scim: ScimClient, value: str) -> None:
    for path, attr in (("/Users", "userName"), ("/Groups", "displayName"), ("/Users", "emails.value")):
        response = scim.get(path, query_string={"filter": f"{attr} eq {value}"})
        assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    raw = scim.get("/Users", query_string={"filter": 'userName eq "a\x00b"'})
    assert raw.status_code in (200, 400), raw.get_data(as_text=True)[:300]


# --- control characters through every way into a stored name ------------------------------------


def _user(scim: ScimClient, **extra) -> str:
    created = scim.post("/Users", json={"schemas": [urns.USER], "userName": "ann", **extra})
    assert created.status_code == 201, created.get_data(as_text=True)
    return created.get_json()["id"]


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "name", "value": {"givenName": "Ann\x1b[2J"}},
        {"op": "replace", "path": "externalId", "value": "x\r\ny"},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "a\r\n@x.org"},
        {"op": "add", "path": "emails", "value": [{"value": "a\x1b@x.org", "type": "home"}]},
        {"op": "replace", "value": {"displayName": "Ann\u202e"}},
        {"op": "replace", "value": {"name.givenName": "Ann\n"}},
        {"op": "replace", "value": {"userName": "ann\n"}},
    ],
    ids=["name-object", "externalId", "email-filter", "email-add", "no-path", "no-path-dotted", "userName"],
)
def test_patch_cannot_slip_control_characters_into_a_user(scim: ScimClient, operation: dict) -> None:
    scim_id = _user(scim, emails=[{"value": "a@x.org", "type": "work"}], name={"givenName": "Ann"})
    before = scim.get(f"/Users/{scim_id}").get_json()
    response = scim.patch(f"/Users/{scim_id}", json={"schemas": [urns.PATCH_OP], "Operations": [operation]})
    assert_scim_error(response, 400, "invalidValue")
    after = scim.get(f"/Users/{scim_id}").get_json()
    assert after == before


def test_group_patch_without_a_path_cannot_slip_control_characters(scim: ScimClient) -> None:
    created = scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "team"})
    scim_id = created.get_json()["id"]
    for value in ({"displayName": "team\r\nx"}, {"externalId": "e\x1b"}):
        operation = {"op": "replace", "value": value}
        response = scim.patch(
            f"/Groups/{scim_id}", json={"schemas": [urns.PATCH_OP], "Operations": [operation]}
        )
        assert_scim_error(response, 400, "invalidValue")
    assert scim.get(f"/Groups/{scim_id}").get_json()["displayName"] == "team"


# --- sessions -----------------------------------------------------------------------------------


def test_the_old_cookie_and_its_csrf_token_cannot_change_anything_after_sign_out(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        add_admin("root")
        other = add_admin("other").id
    assert password_sign_in(client, "root").status_code == 302
    cookie = session_cookie(client)
    token = csrf_from_api(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    attacker = replaying(app, cookie)
    api = attacker.post(f"/api/v1/users/{other}/suspend", headers={"X-CSRF-Token": token})
    assert api.status_code == 401, api.get_data(as_text=True)
    page = attacker.post(f"/admin/users/{other}/suspend", data={"csrf_token": token})
    assert page.status_code in (303, 302, 400, 401), page.status_code
    assert attacker.get("/api/v1/session").status_code == 401
    assert replaying(app, cookie).get("/api/v1/users").status_code == 401


def test_signing_in_again_issues_a_new_session_id_and_ends_the_previous_session(
    app: Flask, client: FlaskClient
) -> None:
    """Session fixation and a shared computer: each sign-in gets a new id, and the browser's
    previous session is ended on the server (a copy of its cookie no longer works)."""
    with app.app_context():
        add_admin("root")
    client.get("/login")
    before = client.get_cookie("session")
    assert password_sign_in(client, "root").status_code == 302
    first = session_cookie(client)
    assert before is None or before.value != first
    assert password_sign_in(client, "root").status_code == 302
    second = session_cookie(client)
    assert second != first
    assert replaying(app, first).get("/api/v1/session").status_code == 401
    configure_dev_saml(app)
    signed = client.post("/saml/acs", data=crafted_response(app, client, "alice"))  # now by SAML
    assert signed.status_code == 302, signed.get_data(as_text=True)[:800]
    assert client.get("/api/v1/session").get_json()["user"]["username"] == "alice"
    assert replaying(app, second).get("/api/v1/session").status_code == 401


def test_suspending_a_user_from_another_session_ends_theirs(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_admin("root")
        victim_id = add_admin("second").id
    victim = app.test_client()
    assert password_sign_in(victim, "second").status_code == 302
    assert password_sign_in(client, "root").status_code == 302
    token = csrf_from_api(client)
    done = client.post(f"/api/v1/users/{victim_id}/suspend", headers={"X-CSRF-Token": token})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert victim.get("/api/v1/session").status_code == 401


# --- /login throttle ---------------------------------------------------------------------------


def test_a_forwarded_for_header_does_not_change_the_throttled_address(app: Flask) -> None:
    with app.app_context():
        add_admin("root")
    limit = int(app.config["LOGIN_FAILURE_LIMIT_PER_ADDRESS"])
    statuses = []
    for attempt in range(limit + 1):
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"10.0.0.{attempt}"
        statuses.append(password_sign_in(client, f"nobody{attempt}", "wrong").status_code)
    assert statuses[-1] == 429, statuses


# --- body caps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/logout", "application/x-www-form-urlencoded"),
        ("/dev-idp/sso", "application/x-www-form-urlencoded"),
        ("/admin/groups", "multipart/form-data; boundary=x"),
        ("/api/v1/groups", "application/json"),
        ("/admin/authentication/token", "application/x-www-form-urlencoded"),
        ("/no/such/page", "application/octet-stream"),
    ],
)
def test_every_browser_route_has_the_small_cap(
    app: Flask, client: FlaskClient, path: str, content_type: str
) -> None:
    configure_dev_saml(app)
    size = int(app.config["MAX_BODY_WEB"]) + 1
    response = client.post(path, data=b"a" * size, headers={"Content-Type": content_type})
    assert response.status_code == 413, (path, response.status_code)


# --- SAML ----------------------------------------------------------------------------------------


def _destination(value: str):
    def edit(response: samlp.Response) -> None:
        response.destination = value

    return edit


def _audience(value: str):
    def edit(response: samlp.Response) -> None:
        response.assertion.conditions.audience_restriction[0].audience[0].text = value

    return edit


@pytest.mark.parametrize(
    "edit",
    [_destination("https://attacker.example/saml/acs"), _audience("https://other-sp.example/metadata")],
    ids=["wrong-destination", "other-audience"],
)
def test_misaddressed_but_signed_responses_are_refused(app: Flask, client: FlaskClient, edit) -> None:
    configure_dev_saml(app)
    response = client.post("/saml/acs", data=crafted_response(app, client, "alice", edit=edit))
    assert response.status_code == 403, response.get_data(as_text=True)[:500]
    assert client.get("/api/v1/session").status_code == 401


# --- the shell's way back -----------------------------------------------------------------------


def test_admin_create_reaches_admin_settings_with_scim_saml_and_group_roles_on(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    configure_scim(app)
    with app.app_context():
        settings.write({"groups_assign_roles": True})
    created = runner.invoke(
        cli.main, ["admin", "create", "rescue", "--password-stdin"], input=ADMIN_PASSWORD + "\n"
    )
    assert created.exit_code == 0, created.output
    assert password_sign_in(client, "rescue").status_code == 302
    assert client.get("/admin/settings").status_code == 200
    assert client.get("/api/v1/settings").status_code == 200


# --- the IdP cannot reach an application group or a built-in account by any write -----------------


def test_no_path_patch_and_put_cannot_rename_a_scim_group_onto_an_application_group(
    app: Flask, scim: ScimClient
) -> None:
    with app.app_context():
        root = add_admin("root")
        app_groups.create_app_group("Admins", [root.id], "server_admin")
        settings.write({"groups_assign_roles": True})
    scim_id = scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "Mine"}).get_json()["id"]
    for operation in (
        {"op": "replace", "value": {"displayName": "Admins"}},
        {"op": "add", "value": {"displayName": "Admins"}},
        {"op": "replace", "path": "DISPLAYNAME", "value": "Admins"},
    ):
        body = {"schemas": [urns.PATCH_OP], "Operations": [operation]}
        refused = scim.patch(f"/Groups/{scim_id}", json=body)
        assert_scim_error(refused, 409, "uniqueness")
    assert scim.get(f"/Groups/{scim_id}").get_json()["displayName"] == "Mine"
    with app.app_context():
        assert [u.username for u in admins.active_server_admins()] == ["root"]


def test_scim_cannot_rename_its_user_onto_a_builtin_account(app: Flask, scim: ScimClient) -> None:
    with app.app_context():
        add_admin("root")
    scim_id = _user(scim)
    for operation in (
        {"op": "replace", "path": "userName", "value": "root"},
        {"op": "replace", "value": {"userName": "root"}},
    ):
        refused = scim.patch(
            f"/Users/{scim_id}", json={"schemas": [urns.PATCH_OP], "Operations": [operation]}
        )
        assert refused.status_code == 409, refused.get_data(as_text=True)
    put = scim.put(f"/Users/{scim_id}", json={"schemas": [urns.USER], "userName": "root"})
    assert put.status_code == 409, put.get_data(as_text=True)
    with app.app_context():
        root = users.find_by_username("root")
        assert root.is_builtin and root.scim is None
    assert scim.get(f"/Users/{scim_id}").get_json()["userName"] == "ann"


# --- SAML: more than one assertion, signature wrapping ------------------------------------------

ASSERTION = re.compile(r"<(\w+):Assertion\b.*?</\1:Assertion>", re.S)
SIGNATURE = re.compile(r"<(\w+):Signature\b.*?</\1:Signature>", re.S)


def _rewritten(fields: dict[str, str], rewrite) -> dict[str, str]:
    """``fields`` with the signed XML changed by ``rewrite(xml, signed_assertion)`` after signing
    (the attacker's move: the signature stays valid for what it covers)."""
    xml = base64.b64decode(fields["SAMLResponse"]).decode("utf-8")
    signed = ASSERTION.search(xml)
    assert signed is not None and "alice</" in signed.group(0)
    xml = rewrite(xml, signed.group(0))
    return {**fields, "SAMLResponse": base64.b64encode(xml.encode("utf-8")).decode("ascii")}


def _evil(signed: str) -> str:
    """The signed assertion without its signature, with another ID and the NameID 'root'."""
    evil = SIGNATURE.sub("", signed, count=1).replace('ID="', 'ID="_evil', 1)
    return re.sub(r">alice</(\w+):NameID>", r">root</\1:NameID>", evil)


def _prepend_unsigned(xml: str, signed: str) -> str:
    return xml.replace(signed, _evil(signed) + signed)


def _wrap_signed_in_evil(xml: str, signed: str) -> str:
    """XSW: the evil assertion takes the signed one's place and carries it inside its Subject."""
    evil = re.sub(r"(</\w+:Subject>)", lambda m: signed + m.group(1), _evil(signed), count=1)
    return xml.replace(signed, evil)


def _swap_into_extensions(xml: str, signed: str) -> str:
    """XSW: the evil assertion takes the signed one's place; the signed one hides in Extensions."""
    xml = xml.replace(signed, _evil(signed))
    issuer_end = re.search(r"</\w+:Issuer>", xml)
    assert issuer_end is not None
    cut = issuer_end.end()
    return xml[:cut] + "<ns0:Extensions>" + signed + "</ns0:Extensions>" + xml[cut:]


@pytest.mark.parametrize(
    "rewrite",
    [_prepend_unsigned, _wrap_signed_in_evil, _swap_into_extensions],
    ids=["two-assertions", "wrapped", "signed-one-moved-to-extensions"],
)
def test_an_unsigned_assertion_beside_a_signed_one_signs_nobody_in(
    app: Flask, client: FlaskClient, rewrite
) -> None:
    configure_dev_saml(app)
    with app.app_context():
        add_admin("root")
    fields = crafted_response(app, client, "alice", sign_response=False)
    response = client.post("/saml/acs", data=_rewritten(fields, rewrite))
    assert "Sign-in failed" in response.get_data(as_text=True)
    assert response.status_code in (400, 403), response.get_data(as_text=True)[:500]
    assert client.get("/api/v1/session").status_code == 401


def test_the_rewriting_itself_leaves_a_valid_response_valid(app: Flask, client: FlaskClient) -> None:
    """The control of the test above: decoding and re-encoding the signed XML changes nothing."""
    configure_dev_saml(app)
    fields = crafted_response(app, client, "alice", sign_response=False)
    response = client.post("/saml/acs", data=_rewritten(fields, lambda xml, signed: xml))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert client.get("/api/v1/session").get_json()["user"]["username"] == "alice"


# --- NUL (PostgreSQL refuses it in text) in every place a client can put one ----------------------


@pytest.mark.parametrize(
    "path",
    [
        "/Users/a%00b",
        "/Groups/a%00b",
        "/Users?filter=externalId%20eq%20%22a%00b%22",
        "/Users?attributes=user%00Name",
        "/Users?excludedAttributes=emails%00",
        "/Users?sortBy=userName%00",
        "/Users?cursor=a%00b",
        "/Groups?filter=members.value%20eq%20%22a%00b%22",
        "/Users/a%00b/",
    ],
)
def test_nul_in_a_scim_url_is_never_a_500(scim: ScimClient, path: str) -> None:
    response = scim.get(path)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    for method in ("delete", "put", "patch"):
        if "?" not in path:
            answered = getattr(scim, method)(path, json={"schemas": [urns.PATCH_OP], "Operations": []})
            assert answered.status_code < 500, (method, answered.get_data(as_text=True)[:300])


def test_nul_in_the_sign_in_form_is_400_not_a_500(app: Flask, client: FlaskClient) -> None:
    """PostgreSQL cannot hold NUL in text: an anonymous /login with one was a 500 there."""
    with app.app_context():
        add_admin("root")
    for username, password in (("ro\x00ot", "x"), ("\x00", "x"), ("root", "x\x00")):
        response = password_sign_in(client, username, password)
        assert response.status_code == 400, response.status_code
        assert "NUL character" in response.get_data(as_text=True)
    assert client.get("/login?next=%00").status_code == 400
    assert password_sign_in(client, "root").status_code == 302


def test_a_nul_in_a_redirect_target_is_400_and_stores_nothing(app: Flask, client: FlaskClient) -> None:
    """``next`` and ``back`` with a NUL: refused before the redirect check, nothing stored."""
    configure_dev_saml(app)
    started = client.get("/saml/login", query_string={"next": "/\x00/evil.example"})
    assert started.status_code == 400 and "Location" not in started.headers
    with app.app_context():
        add_admin("root")
    form = parse_form(client.get("/login").get_data(as_text=True)).fields
    login = client.post(
        "/login", data={**form, "username": "root", "password": ADMIN_PASSWORD, "next": "/\x00/x"}
    )
    assert login.status_code == 400 and "Location" not in login.headers
    assert client.get("/api/v1/session").status_code == 401
    with app.app_context():
        assert db.session.query(SamlOutstandingRequest).count() == 0


def test_nul_in_admin_pages_and_api_is_400_not_a_500(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_admin("root")
    assert password_sign_in(client, "root").status_code == 302
    token = csrf_from_api(client)
    for path in (
        "/admin/users?q=a%00b",
        "/admin/groups?q=a%00b",
        "/admin/activity?q=a%00b",
        "/admin/users?a%00=b",
    ):
        response = client.get(path)
        assert response.status_code == 400, (path, response.get_data(as_text=True)[:300])
        assert response.mimetype == "text/html" and "NUL character" in response.get_data(as_text=True)
    created = client.post("/admin/groups", data={"csrf_token": token, "name": "a\x00b"})
    assert created.status_code == 400
    api = client.get("/api/v1/users?q=%00")
    assert api.status_code == 400 and api.get_json()["error"] == "invalid_input"
    api = client.post("/api/v1/groups", json={"name": "a\x00b"}, headers={"X-CSRF-Token": token})
    assert api.status_code == 400, api.get_data(as_text=True)
    assert client.get("/admin/users?q=ann").status_code == 200
    assert client.get("/api/v1/groups").get_json()["groups"] == []


def test_nul_in_scim_credentials_is_never_a_500(app: Flask, client: FlaskClient, scim_headers) -> None:
    for header in ("Bearer a\x00b", "Basic " + base64.b64encode(b"a\x00b:c\x00d").decode()):
        response = client.get("/scim/v2/Users", headers={"Authorization": header})
        assert response.status_code == 401, response.get_data(as_text=True)[:300]


# --- numbers past the database's integers in URLs -------------------------------------------------

BIG = "99999999999999999999"  # past a 64-bit integer, within Python's digit limit


def test_ids_and_page_numbers_past_64_bits_are_never_a_500(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_admin("root")
    assert password_sign_in(client, "root").status_code == 302
    token = csrf_from_api(client)
    for path in (
        f"/api/v1/users/{BIG}",
        f"/api/v1/groups/{BIG}",
        f"/admin/groups/{BIG}",
        f"/admin/users?page={BIG}",
        f"/admin/groups?page={BIG}",
        f"/admin/activity?page={BIG}",
        f"/admin/activity?before={BIG}",
        f"/admin/users?page=-{BIG}",
    ):
        response = client.get(path)
        assert response.status_code < 500, (path, response.get_data(as_text=True)[:300])
    for path in (
        f"/api/v1/users/{BIG}/suspend",
        f"/admin/users/{BIG}/suspend",
        f"/admin/groups/{BIG}/delete",
    ):
        response = client.post(path, data={"csrf_token": token}, headers={"X-CSRF-Token": token})
        assert response.status_code == 404, (path, response.get_data(as_text=True)[:300])
    response = client.patch(f"/api/v1/groups/{BIG}", json={"name": "x"}, headers={"X-CSRF-Token": token})
    assert response.status_code in (404, 405), response.get_data(as_text=True)[:300]
    own_id = client.get("/api/v1/session").get_json()["user"]["id"]
    assert client.get(f"/api/v1/users/{own_id}").status_code == 200


def test_routing_errors_answer_in_each_areas_own_shape(app: Flask, client: FlaskClient) -> None:
    """A URL that names no route: JSON under /api/v1 (with Allow on a 405), the site's error page
    elsewhere, SCIM's error body under /scim/v2 (after authentication), never werkzeug's bare page."""
    with app.app_context():
        add_admin()
    assert password_sign_in(client, "admin").status_code == 302
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"
    wrong_method = client.delete("/api/v1/session")
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]
    page = client.get("/no-such-page")
    assert page.status_code == 404 and 'id="error-message"' in page.get_data(as_text=True)
    scim = client.get("/scim/v2/NoSuchResource")
    assert scim.status_code == 401  # nothing is revealed before authentication
