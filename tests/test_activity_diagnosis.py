"""Diagnosing from the SCIM activity page (issue 17): a failed request's reason in place, names
beside the ids in paths (one statement per resource kind for the whole page), filters by status
class, method, resource and time that combine, survive paging and reach the CSV export, and links
from a request to the audit events it caused and back. Through the Flask test client, on the real
database (SQLite, or PostgreSQL with SCIMGATE_TEST_DATABASE_URL)."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from scimgate.extensions import db
from scimgate.logs.activity import ScimActivity
from tests.support.activity import add_rows, group_body, shown_request_ids, sign_in_admin, user_body
from tests.support.config import lines_with
from tests.support.scim import ScimClient
from tests.support.signin import configure_dev_saml, saml_sign_in
from tests.support.sql_counter import count_statements


def reasons(page: str) -> list[str]:
    """The texts of the opened-in-place reasons, unescaped once (as a browser shows them)."""
    return [html.unescape(t) for t in re.findall(r'<p class="reason-text">(.*?)</p>', page, re.S)]


def test_a_failed_request_shows_the_reason_of_its_log_line_in_place(
    app: Flask, scim: ScimClient, client: FlaskClient, log_dir: Path
) -> None:
    assert scim.post("/Users", json=user_body("dup")).status_code == 201
    refused = scim.post("/Users", json=user_body("dup"))
    assert refused.status_code == 409
    sign_in_admin(app, client)
    page = client.get("/admin/activity").get_data(as_text=True)
    [reason] = reasons(page)  # the 201 has none
    assert reason.startswith("409 uniqueness: userName 'dup'")
    [line] = [
        line
        for line in lines_with(log_dir, "scim-debug.log", refused.headers["X-Request-Id"])
        if "request.refused" in line
    ]
    assert "userName 'dup' is already in use" in line  # the same words as the log line
    assert '<details class="reason"><summary>Why it failed</summary>' in page  # no navigation


def test_a_reason_is_escaped_and_bounded(app: Flask, scim: ScimClient, client: FlaskClient) -> None:
    hostile = "<img src=x onerror=alert(1)>" + "y" * 900
    assert scim.post("/Users", json=user_body(hostile[:150])).status_code == 201
    assert scim.post("/Users", json=user_body(hostile[:150])).status_code == 409
    sign_in_admin(app, client)
    page = client.get("/admin/activity").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    [reason] = reasons(page)
    assert len(reason) <= 500


def test_paths_show_names_with_one_statement_per_kind(
    app: Flask, scim: ScimClient, client: FlaskClient
) -> None:
    ids = [scim.post("/Users", json=user_body(f"user{n}")).json["id"] for n in range(4)]
    group = scim.post("/Groups", json=group_body("Okta Admins", ids[:2])).json["id"]
    for scim_id in ids:
        assert scim.get(f"/Users/{scim_id}").status_code == 200
    assert scim.get(f"/Groups/{group}").status_code == 200
    assert scim.delete(f"/Users/{ids[3]}").status_code == 204
    assert scim.get("/Users/00000000-0000-0000-0000-000000000000").status_code == 404
    sign_in_admin(app, client)
    with app.app_context():
        from scimgate.models import DirectoryGroup, User

        local = {u.username: u.id for u in db.session.scalars(sa.select(User)).unique()}
        group_id = db.session.scalar(sa.select(DirectoryGroup.id))
    with count_statements(app) as statements:
        page = client.get("/admin/activity").get_data(as_text=True)
    for n in range(3):
        assert f'href="/admin/users/{local[f"user{n}"]}" title="user{n}">user{n}</a>' in page
    assert f'href="/admin/groups/{group_id}" title="Okta Admins">Okta Admins</a>' in page
    assert page.count("(deleted)") == 2  # the GET and the DELETE of user3
    assert page.count("(not found)") == 1
    assert len([s for s in statements if "scim_user_uuid IN" in s]) == 1
    assert len([s for s in statements if "scim_group_uuid IN" in s]) == 1


def test_the_name_statements_do_not_grow_with_the_page(
    app: Flask, scim: ScimClient, client: FlaskClient
) -> None:
    ids = [scim.post("/Users", json=user_body(f"u{n}")).json["id"] for n in range(12)]
    for scim_id in ids:
        scim.get(f"/Users/{scim_id}")
    sign_in_admin(app, client)
    with count_statements(app) as small:
        client.get("/admin/activity?method=GET&until=2099-01-01").get_data()
    for scim_id in ids:
        scim.patch(f"/Users/{scim_id}", json={"schemas": ["x"], "Operations": []})
        scim.get(f"/Users/{scim_id}")
    with count_statements(app) as large:
        client.get("/admin/activity").get_data()
    assert len(large) == len(small)


SPECS = [
    ("GET", "/scim/v2/ServiceProviderConfig", 200, 0),  # req-0
    ("POST", "/scim/v2/Users", 201, 10),  # req-1
    ("POST", "/scim/v2/Users", 409, 20),  # req-2
    ("PATCH", "/scim/v2/Groups/abc", 400, 30),  # req-3
    ("GET", "/scim/v2/Groups", 200, 40),  # req-4
    ("PUT", "/scim/v2/Users/abc", 500, 50),  # req-5
    ("GET", "/scim/v2/Bulk", 404, 60),  # req-6
    ("GET", "/scim/v2/UsersAndMore", 404, 70),  # req-7: not /Users
    ("GET", "/scim/v2/Schemas/urn:x", 404, 80),  # req-8
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=2xx", ["req-4", "req-1", "req-0"]),
        ("status=4xx", ["req-8", "req-7", "req-6", "req-3", "req-2"]),
        ("status=5xx", ["req-5"]),
        ("status=failed", ["req-8", "req-7", "req-6", "req-5", "req-3", "req-2"]),
        ("method=post", ["req-2", "req-1"]),
        ("resource=Users", ["req-5", "req-2", "req-1"]),
        ("resource=Groups", ["req-4", "req-3"]),
        ("resource=discovery", ["req-8", "req-0"]),
        ("resource=other", ["req-7", "req-6"]),
        ("since=2026-12-04 07:40", ["req-8", "req-7", "req-6", "req-5", "req-4"]),
        ("until=2026-12-04T07:20", ["req-2", "req-1", "req-0"]),  # the whole minute 07:20
        ("since=2026-12-04&until=2026-12-04", [f"req-{n}" for n in range(8, -1, -1)]),  # the whole day
        ("since=2026-12-05", []),
        ("since=0001-01-01&until=9999-12-31", [f"req-{n}" for n in range(8, -1, -1)]),  # the edges of time
        ("status=failed&resource=Users&method=POST", ["req-2"]),
        ("status=4xx&since=2026-12-04T07:25:00&until=2026-12-04T07:59:59", ["req-3"]),
        ("request=req-3", ["req-3"]),
    ],
)
def test_filters_select_and_combine(app: Flask, client: FlaskClient, query: str, expected: list[str]) -> None:
    add_rows(app, SPECS)
    sign_in_admin(app, client)
    response = client.get(f"/admin/activity?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert shown_request_ids(page) == expected
    assert 'id="filter-problems"' not in page
    export = client.get(f"/admin/activity.csv?{query}").get_data().decode("utf-8-sig")
    assert [row[5] for row in list(csv.reader(io.StringIO(export)))[1:]] == expected


def test_filters_are_kept_when_paging_and_in_the_export_link(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scimgate.web.admin import activity

    monkeypatch.setattr(activity, "REQUESTS_PER_PAGE", 2)
    add_rows(app, SPECS)
    sign_in_admin(app, client)
    query = "status=failed&method=GET&since=2026-12-04+07:00"
    first = client.get(f"/admin/activity?{query}").get_data(as_text=True)
    assert shown_request_ids(first) == ["req-8", "req-7"]
    older = html.unescape(re.search(r'<a id="older" href="([^"]+)"', first).group(1))
    for kept in ("status=errors", "method=GET", "since=2026-12-04+07:00"):
        assert kept in older
    assert shown_request_ids(client.get(older).get_data(as_text=True)) == ["req-6"]
    export = html.unescape(re.search(r'id="export-csv" href="([^"]+)"', first).group(1))
    assert export.startswith("/admin/activity.csv?") and "method=GET" in export and "since=" in export
    assert 'value="2026-12-04 07:00"' in first  # the form shows what is applied


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ("status=7xx", "Status '7xx' is not one of"),
        ("method=TRACE", "Method 'TRACE' is not one of"),
        ("resource=Bulk", "Resource 'Bulk' is not one of"),
        ("since=yesterday", "Since 'yesterday' is not a time"),
        ("until=2026-02-30", "Until '2026-02-30' is not a time"),
        ("since=2026-12-04T25:00", "Since '2026-12-04T25:00' is not a time"),
        ("request=" + "r" * 300, "Request id 'rrrr"),
        ("method=%3Cscript%3E", "Method '<SCRIPT>' is not one of"),
        ("since=" + "9" * 5000, "Since '9999"),
    ],
)
def test_bad_filter_values_are_ignored_with_a_sentence(
    app: Flask, client: FlaskClient, query: str, sentence: str
) -> None:
    add_rows(app, SPECS)
    sign_in_admin(app, client)
    response = client.get(f"/admin/activity?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    problems = page.split('id="filter-problems"', 1)[1].split("</div>", 1)[0]
    assert sentence in html.unescape(problems) and "ignored" in problems
    assert "<SCRIPT>" not in problems  # escaped
    assert len(problems) < 400  # the refused value is repeated only in part
    assert len(shown_request_ids(page)) == len(SPECS)  # the bad filter selects nothing away
    assert client.get(f"/admin/activity.csv?{query}").status_code == 200


@pytest.mark.parametrize("before", ["99999999999999999999999", "-5", "abc", "9" * 5000])
def test_a_bad_before_shows_the_newest_page(app: Flask, client: FlaskClient, before: str) -> None:
    add_rows(app, SPECS)
    sign_in_admin(app, client)
    response = client.get(f"/admin/activity?before={before}")
    assert response.status_code == 200
    assert len(shown_request_ids(response.get_data(as_text=True))) == len(SPECS)


def test_since_after_until_says_nothing_can_match(app: Flask, client: FlaskClient) -> None:
    add_rows(app, SPECS)
    sign_in_admin(app, client)
    page = client.get("/admin/activity?since=2026-12-05&until=2026-12-04").get_data(as_text=True)
    assert "Since is after until" in page and 'id="no-requests"' in page


def test_a_request_links_to_its_audit_events_and_they_link_back(
    app: Flask, scim: ScimClient, client: FlaskClient
) -> None:
    created = scim.post("/Users", json=user_body("linked"))
    scim.get("/ServiceProviderConfig")
    request_id = created.headers["X-Request-Id"]
    sign_in_admin(app, client)
    page = client.get("/admin/activity").get_data(as_text=True)
    link = f'<a class="events-link" href="/admin/activity?request={request_id}#events-heading">1 event</a>'
    assert link in page
    assert page.count('class="events-link"') == 1  # the discovery GET changed nothing
    of_request = client.get(f"/admin/activity?request={request_id}").get_data(as_text=True)
    assert shown_request_ids(of_request) == [request_id]
    events = of_request.split('id="events"', 1)[1]
    assert "user.created" in events and "User linked" in events
    with app.app_context():
        from scimgate.models import User

        user_id = db.session.scalar(sa.select(User.id).where(User.username == "linked"))
    user_page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert f'<a class="request-link" href="/admin/activity?request={request_id}">' in user_page


def test_a_request_id_with_no_scim_row_still_shows_its_events(app: Flask, client: FlaskClient) -> None:
    """An admin's change has a request id but no SCIM activity row: the events still show."""
    sign_in_admin(app, client)
    with app.app_context():
        from scimgate.logs import audit

        with app.test_request_context("/admin/users"):
            audit.record("user.suspended", "User", "1", target_name="someone")
            db.session.commit()
        request_ids = [e.request_id for e in audit.query()]
    [request_id] = request_ids
    page = client.get(f"/admin/activity?request={request_id}").get_data(as_text=True)
    assert "No SCIM request with this id is recorded" in page
    assert "user.suspended" in page.split('id="events"', 1)[1]


@pytest.mark.parametrize(
    "path", ["/admin/activity?request=x&status=failed", "/admin/activity.csv?method=GET"]
)
def test_the_filtered_activity_is_for_admins_only(app: Flask, client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303 and response.headers["Location"].startswith("/login?next=")
    configure_dev_saml(app)
    saml_sign_in(client, "viewer")
    assert client.get(path).status_code == 403


def _plan(statement: sa.Select) -> str:
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    return " | ".join(str(row[-1]) for row in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))


def test_the_queries_stay_indexed(app: Flask) -> None:
    """SQLite's plan: the filtered page walks the primary key (no sort of the table), a time range
    may use the ``at`` index, and a request's audit events use ``ix_audit_event_request_id``."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
        from scimgate.logs import audit
        from scimgate.web.admin import activity_filters

        filters = activity_filters.parse(
            {"status": "failed", "method": "GET", "resource": "Users", "credential": "authenticated"}
        )
        page = sa.select(ScimActivity).where(*filters.conditions()).order_by(ScimActivity.id.desc()).limit(51)
        assert "TEMP B-TREE" not in _plan(page)
        ranged = activity_filters.parse({"since": "2026-12-04", "until": "2026-12-04 08:00"})
        plan = _plan(sa.select(ScimActivity).where(*ranged.conditions()).order_by(ScimActivity.id.desc()))
        assert "TEMP B-TREE" not in plan or "ix_scim_activity_at" in plan
        of_request = sa.select(audit.AuditEvent).where(audit.AuditEvent.request_id == "r")
        assert "ix_audit_event_request_id" in _plan(of_request)
        about = audit.about(["User"], ["1", "abc"])
        assert "ix_audit_event_target_id" in _plan(about)
