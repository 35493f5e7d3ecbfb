"""The Authentication page's set-up assistant, through HTTP: the values to enter in each client's
IdP (from its plugin's ``scimgate_setup_guide``, the base URL and auth rows from the core), never
a secret, and the connection indicator read from real SCIM requests."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scimgate import configuration_utils as cu
from scimgate.logs import activity as scim_activity
from scimgate.models import utcnow
from scimgate.web.timefmt import for_people
from tests.support.assistant import assistant_fields, list_items, sign_in_admin, text_of
from tests.support.config import bearer_header

# client → (base URL label, authentication mode, one more field the IdP needs, its value, a quirk word)
EXPECTED = {
    "okta": (
        "SCIM connector base URL",
        "HTTP Header (or Basic Auth)",
        "Unique identifier field for users",
        "userName",
        "'_'",
    ),
    "azure_active_directory": (
        "Tenant URL",
        "Secret Token (paste the token only, without 'Bearer')",
        "Provisioning Mode",
        "Automatic",
        "Bearer token only",
    ),
    "pingfederate": (
        "SCIM URL",
        "OAuth 2 Bearer Token (or Basic Authentication)",
        "Unique User Identifier",
        "userName",
        "None",
    ),
    "sailpoint": (
        "Base URL",
        "API Token (or Basic Authentication)",
        "Non-compliant Server?",
        "unchecked",
        "active: true",
    ),
    "one_identity": (
        "SCIM URL / Base address",
        "OAuth 2.0 with a static bearer token (or Basic)",
        "Schema endpoint",
        "/Schemas",
        "/ServiceProviderConfig",
    ),
    "onelogin": (
        "SCIM Base URL",
        "SCIM Bearer Token",
        "SCIM JSON Template",
        "keep userName, name.givenName, name.familyName, one primary email, displayName, active",
        "Bearer token only",
    ),
}
DOCS = {
    "okta": "docs/idp/okta.md",
    "azure_active_directory": "docs/idp/azure_ad.md",
    "pingfederate": "docs/idp/pingfederate.md",
    "sailpoint": "docs/idp/sailpoint.md",
    "one_identity": "docs/idp/one_identity.md",
    "onelogin": "examples/scimgate-onelogin/README.md",
}


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    return sign_in_admin(app, client)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_client_gets_its_own_idp_values_with_the_deployed_base_url(
    app: Flask, admin: FlaskClient, name: str
) -> None:
    with app.app_context():
        cu.update_scim_client(name)
        token = cu.generate_scim_bearer_token(3)
    response = admin.get("/admin/authentication", base_url="https://localhost:8443")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    fields = assistant_fields(page)
    base_label, mode, label, value, quirk = EXPECTED[name]
    assert fields[base_label] == ("https://localhost:8443/scim/v2", True)
    assert fields["Authentication mode"] == (mode, False)
    assert fields["Header sent"][0] == "Authorization: Bearer <the token from Generate Token, shown once>"
    assert fields[label][0] == value
    assert next(iter(fields)) == base_label, "the base URL comes first"
    assert list_items(page, "assistant-actions"), "provisioning actions to enable"
    assert any(quirk in q for q in list_items(page, "assistant-quirks"))
    assert DOCS[name] in text_of(page, "assistant-doc")
    assert token not in page, "the token is shown once, when generated, never again"


def test_the_base_url_follows_the_configured_public_url(app: Flask, admin: FlaskClient) -> None:
    app.config["BASE_URL"] = "https://public.example.com/app/"
    try:
        page = admin.get("/admin/authentication").get_data(as_text=True)
    finally:
        app.config["BASE_URL"] = ""
    assert assistant_fields(page)["SCIM connector base URL"] == (
        "https://public.example.com/app/scim/v2",
        True,
    )


def test_basic_set_up_shows_the_username_never_the_password(app: Flask, admin: FlaskClient) -> None:
    password = "scim_account_password_12345&&"
    with app.app_context():
        cu.update_scim_client("pingfederate")
        cu.set_scim_basic_auth_username("svc@example.com")
        cu.set_scim_basic_auth_password(password)
    page = admin.get("/admin/authentication").get_data(as_text=True)
    fields = assistant_fields(page)
    assert fields["Authentication mode"][0] == "Basic Authentication (or OAuth 2 Bearer Token)"
    assert fields["Username"] == ("svc@example.com", True)
    assert fields["Header sent"][0] == "Authorization: Basic <base64 of username:password>"
    assert password not in page


def test_the_docs_link_uses_the_published_docs(app: Flask, admin: FlaskClient) -> None:
    app.config["DOCS_BASE_URL"] = "https://git.example.com/scimgate/blob/main/"
    try:
        page = admin.get("/admin/authentication").get_data(as_text=True)
    finally:
        app.config["DOCS_BASE_URL"] = ""
    assert 'href="https://git.example.com/scimgate/blob/main/docs/idp/okta.md"' in page


def test_connection_indicator_reports_the_idps_real_requests(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        cu.update_scim_client("okta")
        token = cu.generate_scim_bearer_token(3)
        cu.enable_scim_user_and_group_sync()
    page = admin.get("/admin/authentication").get_data(as_text=True)
    assert text_of(page, "connection-ok") == "Never never"
    assert text_of(page, "connection-failure") == "none"
    assert text_of(page, "connection-auth-failure") == "none"

    assert (
        admin.get("/scim/v2/Users?filter=userName%20eq%20%22a%22", headers=bearer_header(token)).status_code
        == 200
    )
    page = admin.get("/admin/authentication").get_data(as_text=True)
    assert text_of(page, "connection-ok").startswith("OK just now: 200 GET /scim/v2/Users (")
    assert "filter" not in text_of(page, "connection-ok"), "the query string (names, emails) is not kept"

    assert admin.get("/scim/v2/Users/no-such-id", headers=bearer_header(token)).status_code == 404
    assert admin.get("/scim/v2/Groups", headers=bearer_header("wrong-token")).status_code == 401
    page = admin.get("/admin/authentication").get_data(as_text=True)
    assert text_of(page, "connection-ok").startswith("OK just now: 200 GET /scim/v2/Users (")
    assert text_of(page, "connection-failure").startswith("just now: 404 GET /scim/v2/Users/no-such-id: 404")
    refused = text_of(page, "connection-auth-failure")
    assert (
        refused.startswith("just now: 401 GET /scim/v2/Groups: 401: Authentication failed")
        and "(unknown token)" in refused
    )


@pytest.mark.parametrize(
    ("minutes", "said"), [(3, "3 min ago"), (150, "2 h ago"), (3 * 1440 + 5, "3 days ago")]
)
def test_connection_indicator_says_how_long_ago(
    app: Flask, admin: FlaskClient, minutes: int, said: str
) -> None:
    """Rows written the way the recorder writes them (``scim_activity.write_rows``), older ones."""
    at = utcnow() - dt.timedelta(minutes=minutes)
    row = {
        "at": at,
        "method": "PATCH",
        "path": "/scim/v2/Groups/g1",
        "status": 204,
        "duration_ms": 3.0,
        "request_id": "r1",
        "principal": "token:abc",
        "reason": None,
    }
    scim_activity.write_rows(app, [row])
    page = admin.get("/admin/authentication").get_data(as_text=True)
    assert text_of(page, "connection-ok") == f"OK {said}: 204 PATCH /scim/v2/Groups/g1 ({for_people(at)})"


def test_a_hostile_path_or_reason_is_shown_as_text(app: Flask, admin: FlaskClient) -> None:
    """An anonymous client chooses the path and the refused credential: the page escapes both."""
    path = "/scim/v2/Users/%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    assert admin.get(path, headers=bearer_header("<img src=x onerror=alert(2)>")).status_code == 401
    page = admin.get("/admin/authentication").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)" in page.split('id="connection-auth-failure"')[1]
