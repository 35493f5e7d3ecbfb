"""The server-rendered pages through the Flask test client: who may open them, CSRF on every form,
the security headers, and that each action asks the same policies as the JSON API."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scimgate import configuration_utils as cu
from scimgate.accounts import groups as app_groups
from scimgate.accounts import settings, users
from scimgate.extensions import db
from scimgate.models import DirectoryGroup, User
from scimgate.web.timefmt import for_people
from tests.support.config import add_group, add_local_user, add_pushed_user, bearer_header, sibling_app
from tests.support.signin import add_admin, configure_dev_saml, parse_form, password_sign_in, saml_sign_in

ADMIN_PAGES = [
    ("GET", "/admin/"),
    ("GET", "/admin/authentication"),
    ("POST", "/admin/authentication/token"),
    ("GET", "/admin/activity"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users/1/activate"),
    ("POST", "/admin/users/1/suspend"),
    ("POST", "/admin/users/1/role"),
    ("GET", "/admin/groups"),
    ("POST", "/admin/groups"),
    ("GET", "/admin/groups/1"),
    ("POST", "/admin/groups/1/rename"),
    ("POST", "/admin/groups/1/members"),
    ("POST", "/admin/groups/1/members/1/remove"),
    ("POST", "/admin/groups/1/role"),
    ("POST", "/admin/groups/1/delete"),
    ("GET", "/admin/settings"),
    ("POST", "/admin/settings"),
]
HTML_PAGES = [
    "/login",
    "/account",
    "/profile",
    "/admin/authentication",
    "/admin/activity",
    "/admin/users",
    "/admin/groups",
    "/admin/settings",
]


def csrf_of(client: FlaskClient, path: str = "/profile") -> str:
    """The CSRF token a page's forms carry."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """A signed-in built-in Server Admin, SAML on (the development IdP), SCIM off."""
    configure_dev_saml(app)
    with app.app_context():
        add_admin()
    assert password_sign_in(client, "admin").status_code == 302
    return client


def post(client: FlaskClient, path: str, data: dict | None = None, **kwargs):
    """Post a page form with this session's CSRF token."""
    return client.post(path, data={"csrf_token": csrf_of(client), **(data or {})}, **kwargs)


# --- who may open the pages -----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")


def test_sign_in_comes_back_to_the_page_asked_for(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        add_admin()
    location = client.get("/admin/users?q=adm").headers["Location"]
    assert location == "/login?next=/admin/users?q%3Dadm"
    form = parse_form(client.get(location).get_data(as_text=True))
    from tests.support.signin import ADMIN_PASSWORD

    signed = client.post("/login", data={**form.fields, "username": "admin", "password": ADMIN_PASSWORD})
    assert signed.headers["Location"] == "/admin/users?q=adm"


@pytest.mark.parametrize(("method", "path"), ADMIN_PAGES)
def test_signed_in_non_admins_get_403(app: Flask, client: FlaskClient, method: str, path: str) -> None:
    configure_dev_saml(app)
    assert saml_sign_in(client, "viewer").status_code == 302
    response = client.open(path, method=method, data={"csrf_token": csrf_of(client)})
    assert response.status_code == 403
    assert "Server Admins only" in response.get_data(as_text=True)


def test_profile_needs_a_session_but_no_role(app: Flask, client: FlaskClient) -> None:
    assert client.get("/profile").headers["Location"] == "/login?next=/profile"
    assert client.post("/profile").status_code == 303
    configure_dev_saml(app)
    saml_sign_in(client, "viewer")
    assert client.get("/profile").status_code == 200


def test_a_suspended_admin_loses_the_pages_at_once(app: Flask, admin: FlaskClient) -> None:
    assert admin.get("/admin/users").status_code == 200
    with app.app_context():
        add_admin("other")  # the last admin could not be suspended
        users.suspend(users.find_by_username("admin"))
    assert admin.get("/admin/users").status_code == 303


# --- CSRF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [p for p in ADMIN_PAGES if p[0] == "POST"])
def test_admin_forms_without_the_csrf_token_are_refused(admin: FlaskClient, method: str, path: str) -> None:
    missing = admin.post(path, data={"months": "3", "name": "x", "role": "viewer"})
    assert missing.status_code == 400
    assert "The form expired" in missing.get_data(as_text=True)
    wrong = admin.post(path, data={"csrf_token": "forged", "months": "3"})
    assert wrong.status_code == 400


def test_a_refused_form_changes_nothing(app: Flask, admin: FlaskClient) -> None:
    assert admin.post("/admin/authentication/token", data={"months": "3"}).status_code == 400
    assert admin.post("/admin/settings", data={"moderation": "on"}).status_code == 400
    assert admin.post("/admin/groups", data={"name": "sneaky"}).status_code == 400
    assert admin.post("/profile", data={"display_name": "x"}).status_code == 400
    with app.app_context():
        assert not cu.get_scim_bearer_token()["configured"]
        assert not settings.stored("moderation")
        assert app_groups.all_groups() == []
        assert users.find_by_username("admin").profile.display_name == "admin"


def test_a_csrf_token_of_another_session_is_refused(app: Flask, admin: FlaskClient) -> None:
    other = app.test_client()
    foreign = csrf_of(other, "/login")
    response = admin.post("/admin/settings", data={"csrf_token": foreign, "moderation": "on"})
    assert response.status_code == 400


# --- headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_page_has_a_strict_content_security_policy(admin: FlaskClient, path: str) -> None:
    response = admin.get(path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert re.search(r"script-src 'self'(;| 'nonce-)", policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    html = response.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html and "javascript:" not in html


def test_admin_pages_are_not_cached(admin: FlaskClient) -> None:
    assert admin.get("/admin/authentication").headers["Cache-Control"] == "no-store"
    assert admin.get("/profile").headers["Cache-Control"] == "no-store"


def test_the_only_inline_script_carries_the_nonce_of_its_response(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    start = client.get("/saml/login")
    idp_page = client.get(start.headers["Location"].replace("http://localhost", ""))
    form = parse_form(idp_page.get_data(as_text=True))
    posted = client.post("/dev-idp/sso", data={**form.fields, "username": "someone"})
    nonce = re.search(r"'nonce-([^']+)'", posted.headers["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in posted.get_data(as_text=True)
    again = client.post("/dev-idp/sso", data={**form.fields, "username": "someone"})
    assert nonce not in again.headers["Content-Security-Policy"]


def test_json_and_scim_answers_get_no_page_policy(app: Flask, client: FlaskClient) -> None:
    headers = configure_dev_saml(app, scim=True)
    assert "Content-Security-Policy" not in client.get("/scim/v2/Users", headers=headers).headers
    assert "Content-Security-Policy" not in client.get("/api/v1/session").headers


def test_session_cookies_are_secure_http_only_and_same_site(app: Flask, tmp_path) -> None:
    from scimgate_config import load_config

    for name in ("default", "production"):
        config = load_config(name, environ={})
        assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_HTTPONLY"]
        assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    secure = sibling_app(app, tmp_path, SESSION_COOKIE_SECURE=True)
    with secure.app_context():
        add_admin()
    client = secure.test_client()
    signed = password_sign_in(client, "admin")
    cookie = signed.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- Authentication: the SCIM token ----------------------------------------------------------------


def _dialog_token(html: str) -> str:
    match = re.search(r'<input id="new-token"[^>]* value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_generate_token_shows_it_once_and_revokes_the_previous(app: Flask, admin: FlaskClient) -> None:
    page = admin.get("/admin/authentication").get_data(as_text=True)
    assert "No token has been generated yet." in page
    assert [f"{m} month" + ("s" if m > 1 else "") for m in range(1, 7)] == re.findall(
        r'<option value="\d">([^<]+)</option>', page.replace(" selected", "")
    )
    first = admin.post("/admin/authentication/token", data={"csrf_token": csrf_of(admin), "months": "2"})
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    html = first.get_data(as_text=True)
    assert "will never be displayed again" in html
    token = _dialog_token(html)
    with app.app_context():
        info = cu.get_scim_bearer_token()
        cu.update_scim_client("okta")
        cu.enable_scim_user_and_group_sync()
    assert info["fingerprint"] in html
    after = admin.get("/admin/authentication").get_data(as_text=True)
    assert token not in after and info["fingerprint"] in after and for_people(info["expires"]) in after
    assert admin.get("/scim/v2/Users", headers=bearer_header(token)).status_code == 200
    second = _dialog_token(
        admin.post(
            "/admin/authentication/token",
            data={"csrf_token": csrf_of(admin), "months": "1", "confirm": "yes"},
        ).get_data(as_text=True)
    )
    assert second != token
    assert admin.get("/scim/v2/Users", headers=bearer_header(token)).status_code == 401
    assert admin.get("/scim/v2/Users", headers=bearer_header(second)).status_code == 200


@pytest.mark.parametrize("months", ["0", "7", "x", ""])
def test_token_validity_outside_one_to_six_months_is_refused(app: Flask, admin: FlaskClient, months) -> None:
    response = post(admin, "/admin/authentication/token", {"months": months})
    assert response.status_code == 400
    with app.app_context():
        assert not cu.get_scim_bearer_token()["configured"]


def test_status_shows_each_setting_with_its_command_and_no_secret(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        cu.set_scim_basic_auth_username("svc")
        cu.set_scim_basic_auth_password("scim_account_password_12345&&")
    html = admin.get("/admin/authentication").get_data(as_text=True)
    for text in (
        "scimgate scim set-client NAME",
        "scimgate scim enable",
        "scimgate scim set-basic-auth --username NAME",
        "scimgate scim generate-token --months N",
        "scimgate saml configure --idp-metadata FILE",
        "username svc; password set",
        "configured, enabled",
        "okta (default, not chosen yet)",
    ):
        assert text in html
    assert "scim_account_password_12345" not in html


def _status_row(html: str, name: str) -> str:
    match = re.search(rf'<th scope="row"[^>]*>{re.escape(name)}</th>\s*<td[^>]*>(.*?)</td>', html, re.S)
    assert match, html
    return match.group(1)


def test_status_never_says_ok_for_a_client_that_cannot_authenticate(app: Flask, admin: FlaskClient) -> None:
    """Entra ID with Basic credentials only: the page shows the same answer as the preflight."""
    with app.app_context():
        cu.update_scim_client("azure_active_directory")
        cu.set_scim_basic_auth_username("svc")
        cu.set_scim_basic_auth_password("scim_account_password_12345&&")
        problem = cu.auth_status().problem()
    html = admin.get("/admin/authentication").get_data(as_text=True)
    assert "badge off" in _status_row(html, "Basic authentication")
    assert "not accepted by azure_active_directory" in _status_row(html, "Basic authentication")
    row = _status_row(html, "SCIM authentication")
    assert "badge off" in row and "accepts only a bearer token" in row
    assert problem and problem.split(" (run")[0] in row.replace("&#39;", "'")
    with app.app_context():
        cu.generate_scim_bearer_token(1)
    html = admin.get("/admin/authentication").get_data(as_text=True)
    assert "badge ok" in _status_row(html, "SCIM authentication")
    assert "badge ok" in _status_row(html, "SCIM client")


# --- Users ---------------------------------------------------------------------------------------


def _row(html: str, username: str) -> str:
    match = re.search(rf'<tr id="user-\d+" data-username="{re.escape(username)}">(.*?)</tr>', html, re.S)
    assert match, html
    return match.group(1)


def test_users_page_follows_the_policy_for_pushed_and_local_accounts(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        pushed = add_pushed_user("bjensen").id
        local = add_local_user("carol").id
    configure_dev_saml(app, scim=True)
    html = admin.get("/admin/users").get_data(as_text=True)
    row = _row(html, "bjensen")
    assert '<button type="button" disabled' in row and "Suspend" in row
    assert "pushed from the IdP and SCIM sync is enabled" in row
    assert "SCIM" in row and "Active" in row
    local_row = _row(html, "carol")
    assert "disabled" not in local_row and "/suspend" in local_row
    # the only Server Admin cannot be suspended (tests/test_admin_lockout.py)
    assert "would leave no active Server Admin" in _row(html, "admin")
    refused = post(admin, f"/admin/users/{pushed}/suspend")
    assert refused.status_code == 403
    assert "pushed from the IdP" in refused.get_data(as_text=True)
    assert post(admin, f"/admin/users/{local}/suspend").status_code == 303
    with app.app_context():
        assert users.get(local).profile.is_suspended
        assert not users.get(pushed).profile.is_suspended
    html = admin.get("/admin/users").get_data(as_text=True)
    assert "Suspended" in _row(html, "carol") and "/activate" in _row(html, "carol")
    assert post(admin, f"/admin/users/{local}/activate").status_code == 303


def test_with_scim_off_pushed_users_can_be_suspended(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        pushed = add_pushed_user("bjensen").id
    assert "disabled" not in _row(admin.get("/admin/users").get_data(as_text=True), "bjensen")
    assert post(admin, f"/admin/users/{pushed}/suspend").status_code == 303


def test_users_search_kind_filter_and_paging(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        for i in range(30):
            add_local_user(f"user{i:02d}")
        add_pushed_user("pushed_50%")
    first = admin.get("/admin/users").get_data(as_text=True)
    assert "Users 1&ndash;25 of 32" in first and "Page 1 of 2" in first
    second = admin.get("/admin/users?page=2").get_data(as_text=True)
    assert "Users 26&ndash;32 of 32" in second and "user29" in second and "user00" not in second
    found = admin.get("/admin/users?q=USER1").get_data(as_text=True)
    assert re.findall(r'data-username="([^"]+)"', found) == [f"user1{i}" for i in range(10)]
    literal = admin.get("/admin/users?q=50%25").get_data(as_text=True)
    assert re.findall(r'data-username="([^"]+)"', literal) == ["pushed_50%"]
    scim_only = admin.get("/admin/users?kind=scim").get_data(as_text=True)
    assert re.findall(r'data-username="([^"]+)"', scim_only) == ["pushed_50%"]
    builtin = admin.get("/admin/users?kind=builtin").get_data(as_text=True)
    assert re.findall(r'data-username="([^"]+)"', builtin) == ["admin"]


def test_user_roles_are_set_here_until_groups_assign_them(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        carol = add_local_user("carol").id
        admin_id = users.find_by_username("admin").id
        group = app_groups.create_app_group("admins", [admin_id], "server_admin")
    assert post(admin, f"/admin/users/{carol}/role", {"role": "steward"}).status_code == 303
    with app.app_context():
        assert users.get(carol).role == "steward"
        settings.write({"groups_assign_roles": True})
    html = admin.get("/admin/users").get_data(as_text=True)
    assert "/role" not in _row(html, "carol") and "roles cannot be assigned to users manually" in html.lower()
    assert post(admin, f"/admin/users/{carol}/role", {"role": "viewer"}).status_code == 403
    assert group  # the admin keeps Server Admin through the group


# --- Groups --------------------------------------------------------------------------------------


def test_application_groups_are_managed_here(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        add_local_user("carol")
    created = post(admin, "/admin/groups", {"name": "Stewards", "role": "steward"})
    assert created.status_code == 303
    group_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert post(admin, f"/admin/groups/{group_id}/rename", {"name": "Data stewards"}).status_code == 303
    assert post(admin, f"/admin/groups/{group_id}/members", {"username": "carol"}).status_code == 303
    assert post(admin, f"/admin/groups/{group_id}/members", {"username": "Carol"}).status_code == 404
    page = admin.get(f"/admin/groups/{group_id}").get_data(as_text=True)
    assert "Data stewards" in page and "carol" in page and "Delete group" in page
    with app.app_context():
        carol = users.find_by_username("carol")
        assert app_groups.member_ids([group_id])[group_id] == [carol.id]
        assert app_groups.get(group_id).role == "steward"
    assert post(admin, f"/admin/groups/{group_id}/members/{carol.id}/remove").status_code == 303
    assert post(admin, "/admin/groups", {"name": "Data stewards"}).status_code == 409
    assert post(admin, f"/admin/groups/{group_id}/delete").status_code == 303
    with app.app_context():
        assert db.session.get(DirectoryGroup, group_id) is None


def test_scim_groups_are_read_only_but_take_a_role(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        member = add_pushed_user("bjensen")
        group_id = add_group("Okta Admins", [member]).id
        extra = add_local_user("carol").id
    listing = admin.get("/admin/groups").get_data(as_text=True)
    assert "SCIM (read-only)" in listing and "Okta Admins" in listing
    page = admin.get(f"/admin/groups/{group_id}").get_data(as_text=True)
    assert (
        'id="rename"' not in page and 'id="member-username"' not in page and 'id="delete-group"' not in page
    )
    assert "SCIM groups cannot be created or deleted manually" in page
    assert post(admin, f"/admin/groups/{group_id}/rename", {"name": "x"}).status_code == 403
    assert post(admin, f"/admin/groups/{group_id}/members", {"username": "carol"}).status_code == 403
    assert post(admin, f"/admin/groups/{group_id}/members/{member.id}/remove").status_code == 403
    assert post(admin, f"/admin/groups/{group_id}/delete").status_code == 403
    assert post(admin, f"/admin/groups/{group_id}/role", {"role": "catalog_admin"}).status_code == 303
    with app.app_context():
        group = app_groups.get(group_id)
        assert group.role == "catalog_admin" and group.external_unique_name == "Okta Admins"
        assert app_groups.member_ids([group_id])[group_id] == [member.id]
        assert extra not in app_groups.member_ids([group_id])[group_id]


# --- Settings ------------------------------------------------------------------------------------


def test_settings_follow_the_policy(app: Flask, admin: FlaskClient) -> None:
    html = admin.get("/admin/settings").get_data(as_text=True)
    assert "Use Custom Groups to manage user suspension and activation" in html
    assert "Use Groups to Assign Roles" in html and " disabled" not in html
    assert post(admin, "/admin/settings", {"moderation": "on"}).status_code == 303
    with app.app_context():
        assert settings.stored("moderation")
        settings.write({"moderation": False})
    configure_dev_saml(app, scim=True)
    html = admin.get("/admin/settings").get_data(as_text=True)
    for name in ("moderation", "custom_groups_manage_activation"):
        assert re.search(rf'id="{name}" name="{name}" disabled', html)
    assert "cannot be enabled when the automatic identity management process is in use" in html
    assert re.search(r'id="groups_assign_roles" name="groups_assign_roles" aria', html)
    assert post(admin, "/admin/settings", {"moderation": "on"}).status_code == 403
    # a built-in admin keeps its role when groups assign roles (tests/test_admin_lockout.py: refusals)
    assert post(admin, "/admin/settings", {"groups_assign_roles": "on"}).status_code == 303
    with app.app_context():
        assert not settings.stored("moderation") and settings.stored("groups_assign_roles")


# --- Profile -------------------------------------------------------------------------------------


def test_profile_fields_lock_while_scim_is_on(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app, scim=True)
    with app.app_context():
        add_pushed_user("bjensen")
    assert saml_sign_in(client, "bjensen").status_code == 302
    html = client.get("/profile").get_data(as_text=True)
    assert re.search(r'id="display_name"[^>]*readonly', html) and re.search(r'id="email"[^>]*readonly', html)
    assert "The Display Name is supplied using an automatic process" in html
    assert "Contact your directory admin to change the email" in html
    refused = post(client, "/profile", {"display_name": "Barbara", "email": "bjensen@example.com"})
    assert refused.status_code == 403
    unchanged = post(client, "/profile", {"display_name": "bjensen", "email": "bjensen@example.com"})
    assert unchanged.status_code == 303


def test_profile_fields_can_be_changed_while_scim_is_off(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    saml_sign_in(client, "carol")
    html = client.get("/profile").get_data(as_text=True)
    assert "readonly" not in html and 'id="save-profile"' in html
    saved = post(client, "/profile", {"display_name": "Carol C.", "email": "carol@example.com"})
    assert saved.status_code == 303
    with app.app_context():
        carol = db.session.scalars(db.select(User).where(User.username == "carol")).one()
        assert (carol.profile.display_name, carol.email) == ("Carol C.", "carol@example.com")
    assert post(client, "/profile", {"email": "not-an-address"}).status_code == 400


def test_no_cookie_session_is_opened_for_scim_or_the_probes(app: Flask) -> None:
    """SCIM clients and load balancers never sign in: their paths get Flask's null session."""
    from flask import request

    interface = app.session_interface
    for path in ("/scim/v2/Users", "/scim/v2", "/healthz", "/readyz"):
        with app.test_request_context(path):
            assert interface.is_null_session(interface.open_session(app, request)), path
    for path in ("/login", "/profile", "/admin/users", "/scimx"):
        with app.test_request_context(path):
            assert not interface.is_null_session(interface.open_session(app, request)), path
