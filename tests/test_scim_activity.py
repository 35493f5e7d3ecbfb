"""SCIM activity: one row per /scim/v2 request, shared through the database, pruned to the latest
N, never able to break a SCIM response, and shown on the admin page."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from scimgate.extensions import db
from scimgate.logs import activity as scim_activity
from scimgate.logs.activity import ScimActivity
from tests.support.config import read_log, sibling_app
from tests.support.scim import ScimClient
from tests.support.signin import add_admin, password_sign_in
from tests.support.sql_counter import count_statements, touching


def rows(app: Flask) -> list[ScimActivity]:
    """The table's rows, after writing what this process still buffers (as readers do)."""
    with app.app_context():
        scim_activity.flush(app)
        return list(db.session.scalars(sa.select(ScimActivity).order_by(ScimActivity.id)))


def test_each_scim_request_is_recorded_once(app: Flask, scim: ScimClient, client: FlaskClient) -> None:
    created = scim.post(
        "/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bj"}
    )
    assert created.status_code == 201
    listed = scim.get("/Users", query_string={"filter": 'userName eq "bj"'})
    refused = client.get("/scim/v2/Users", headers={"Authorization": "Bearer wrong"})
    client.get("/healthz")
    client.get("/login")
    recorded = rows(app)
    assert [(r.method, r.path, r.status) for r in recorded] == [
        ("POST", "/scim/v2/Users", 201),
        ("GET", "/scim/v2/Users", 200),
        ("GET", "/scim/v2/Users", 401),
    ]
    assert [r.request_id for r in recorded] == [
        created.headers["X-Request-Id"],
        listed.headers["X-Request-Id"],
        refused.headers["X-Request-Id"],
    ]
    assert all(r.duration_ms >= 0 for r in recorded)
    assert recorded[0].principal and recorded[2].principal is None
    assert "bj" not in recorded[1].path  # the query string (a filter) is not kept


def test_another_process_sees_the_rows(app: Flask, scim: ScimClient, tmp_path: Path) -> None:
    import time

    scim.get("/ServiceProviderConfig")
    other = sibling_app(app, tmp_path)
    deadline = time.monotonic() + 5  # the first app's background flush writes within 0.5 s
    seen: list[str] = []
    while not seen and time.monotonic() < deadline:
        with other.app_context():
            seen = [r.path for r in scim_activity.latest()]
        time.sleep(0.05)
    assert seen == ["/scim/v2/ServiceProviderConfig"]


def test_rows_are_pruned_to_the_latest_n(
    app: Flask, scim: ScimClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "SCIM_ACTIVITY_KEEP", 4)
    monkeypatch.setitem(app.config, "SCIM_ACTIVITY_BATCH", 3)
    responses = [scim.get("/ServiceProviderConfig") for _ in range(14)]
    assert {r.status_code for r in responses} == {200}
    kept = rows(app)
    assert len(kept) == 4
    ids = [r.id for r in kept]
    assert ids == list(range(ids[0], ids[0] + 4))  # the newest are the ones kept
    assert [r.request_id for r in kept] == [r.headers["X-Request-Id"] for r in responses[-4:]]


def test_requests_are_written_in_batches_off_the_request_path(
    app: Flask, scim: ScimClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is written per request; a full buffer is written in one INSERT; the background
    thread writes the rest within the flush interval."""
    import threading
    import time

    scim_activity.flush(app)
    monkeypatch.setitem(app.config, "SCIM_ACTIVITY_BATCH", 5)
    writes: list[int] = []
    original = scim_activity.write_rows
    original_background = scim_activity.background_flush
    background_may_run = threading.Event()

    def counting(application: Flask, batch: list[dict], anonymous: list[dict]) -> None:
        writes.append(len(batch))
        original(application, batch, anonymous)

    def held_background(application: Flask) -> int:
        background_may_run.wait(10)  # the thread's interval must not split the batch below
        return original_background(application)

    monkeypatch.setattr(scim_activity, "write_rows", counting)
    monkeypatch.setattr(scim_activity, "background_flush", held_background)
    for _ in range(7):
        scim.get("/ServiceProviderConfig")
    assert writes == [5]  # the fifth request wrote the five queued rows at once; no other write
    background_may_run.set()
    deadline = time.monotonic() + 5
    while sum(writes) < 7 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writes == [5, 2]  # the background flush wrote the last two


def test_a_failing_write_never_breaks_the_scim_response(
    app: Flask, scim: ScimClient, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(application: Flask, batch: list[dict], anonymous: list[dict]) -> None:
        raise RuntimeError("activity table unavailable")

    monkeypatch.setattr(scim_activity, "write_rows", broken)
    monkeypatch.setitem(app.config, "SCIM_ACTIVITY_BATCH", 1)  # write within the request
    response = scim.get("/ServiceProviderConfig")
    assert response.status_code == 200
    request_id = response.headers["X-Request-Id"]
    errors = [line for line in read_log(log_dir, "scim-error.log").splitlines() if request_id in line]
    assert errors and "scim_activity: could not record 1 requests" in errors[0]
    assert "activity table unavailable" in errors[0]
    assert rows(app) == []


def test_recording_stays_off_the_request_connection(app: Flask, scim: ScimClient) -> None:
    """The INSERT runs on the activity engine: the SCIM route's statements are unchanged."""
    with count_statements(app) as statements:
        scim.get("/Users")
    assert touching(statements, "scim_activity") == []
    assert len(rows(app)) == 1


def test_the_activity_page_shows_requests_and_lifecycle_events(
    app: Flask, scim: ScimClient, client: FlaskClient
) -> None:
    created = scim.post(
        "/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bj"}
    )
    client.get("/scim/v2/Users", headers={"Authorization": "Bearer wrong"})
    with app.app_context():
        add_admin()
    password_sign_in(client, "admin")
    page = client.get("/admin/activity").get_data(as_text=True)
    assert page.count('<tr data-status="') == 2
    assert created.headers["X-Request-Id"] in page and "/scim/v2/Users" in page
    assert "user.created" in page and '2</strong> requests, <strong class="bad">1</strong> failed' in page
    failed = client.get("/admin/activity?status=errors").get_data(as_text=True)
    assert failed.count('<tr data-status="401">') == 1 and '<tr data-status="201">' not in failed
    ok = client.get("/admin/activity?status=2xx").get_data(as_text=True)
    assert '<tr data-status="401">' not in ok and '<tr data-status="201">' in ok
    assert client.get("/admin/activity?status=5xx").get_data(as_text=True).count("No matching requests") == 1


def test_the_activity_page_pages_backwards(
    app: Flask, scim: ScimClient, client: FlaskClient, monkeypatch
) -> None:
    from scimgate.web.admin import activity

    monkeypatch.setattr(activity, "REQUESTS_PER_PAGE", 3)
    for _ in range(5):
        scim.get("/ServiceProviderConfig")
    with app.app_context():
        add_admin()
    password_sign_in(client, "admin")
    ids = [r.id for r in rows(app)]
    first = client.get("/admin/activity").get_data(as_text=True)
    assert first.count("<tr data-status=") == 3 and f"before={ids[2]}" in first
    older = client.get(f"/admin/activity?before={ids[2]}").get_data(as_text=True)
    assert older.count("<tr data-status=") == 2 and "Older requests" not in older


def test_refused_writes_are_recorded_without_waiting_for_a_lock(app: Flask, scim: ScimClient) -> None:
    import time

    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "dup"}
    assert scim.post("/Users", json=body).status_code == 201
    started = time.monotonic()
    assert scim.post("/Users", json=body).status_code == 409
    assert scim.post("/Users", json={"userName": 5}).status_code == 400
    assert time.monotonic() - started < 5  # not the 15 s SQLite busy timeout
    assert [r.status for r in rows(app)] == [201, 409, 400]


def test_rows_still_queued_in_any_app_are_written_by_flush_all(
    app: Flask, scim: ScimClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What runs at exit: every app of the process writes what it still holds."""
    held: list[Flask] = []
    monkeypatch.setattr(scim_activity, "background_flush", lambda a: held.append(a) or 0)
    other = sibling_app(app, tmp_path)
    scim.get("/ServiceProviderConfig")
    other.test_client().get("/scim/v2/Users")  # no credentials: 401, recorded by the sibling
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScimActivity)) == 0
    assert scim_activity.flush_all() == 2
    with app.app_context():
        statuses = sorted(db.session.scalars(sa.select(ScimActivity.status)))
    assert statuses == [200, 401]


def test_anonymous_requests_never_evict_the_idps_requests(
    app: Flask, scim: ScimClient, client: FlaskClient, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: a flood of unauthenticated requests (no credentials, wrong ones, throttled,
    refused for size before authentication) is counted in a few rows; the IdP's requests made
    before it all stay in the table and on the page."""
    monkeypatch.setitem(app.config, "SCIM_ACTIVITY_KEEP", 5)
    idp = [scim.get("/ServiceProviderConfig").headers["X-Request-Id"] for _ in range(5)]
    statuses: dict[int, int] = {}
    big = b"{" + b" " * app.config["SCIM_MAX_BODY_USER"] + b"}"
    for i in range(300):
        if i % 3 == 0:
            response = client.get(f"/scim/v2/Users?next={'x' * 2000}")
        elif i % 3 == 1:
            response = client.get("/scim/v2/" + "a" * 3000, headers={"Authorization": "Bearer wrong"})
        else:
            response = client.post(
                "/scim/v2/Users", data=big, headers={"Content-Type": "application/scim+json"}
            )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert set(statuses) <= {401, 413, 429} and 429 in statuses  # the throttle answered too
    recorded = rows(app)
    authenticated = [r for r in recorded if r.principal]
    anonymous = [r for r in recorded if not r.principal]
    assert [r.request_id for r in authenticated] == idp
    assert sum(r.requests for r in anonymous) == 300
    assert len(anonymous) <= 2 * len(statuses)  # one row per minute and status (the run may span two)
    assert all(len(r.path) <= scim_activity.PATH_MAX for r in anonymous)
    with app.app_context():
        add_admin()
    password_sign_in(client, "admin")
    page = client.get("/admin/activity").get_data(as_text=True)
    assert all(request_id in page for request_id in idp)
    assert "this minute" in page and "<strong>305</strong> requests" in page  # the day's total counts all
    mine = client.get("/admin/activity?credential=authenticated").get_data(as_text=True)
    assert mine.count("<tr data-status=") == 5 and all(request_id in mine for request_id in idp)
    noise = client.get("/admin/activity?credential=unauthenticated").get_data(as_text=True)
    assert noise.count("<tr data-status=") == len(anonymous) and idp[0] not in noise
    info = read_log(log_dir, "scim-info.log")
    assert max(len(line) for line in info.splitlines()) < 2000  # no 3000-character path logged


def test_each_kind_of_row_is_pruned_apart(
    app: Flask, scim: ScimClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    monkeypatch.setitem(app.config, "SCIM_ACTIVITY_KEEP_ANONYMOUS", 2)
    idp = [scim.get("/ServiceProviderConfig").headers["X-Request-Id"] for _ in range(3)]
    rows(app)
    minute = dt.datetime(2026, 1, 1, 12, 0)
    folded = [
        {
            "at": minute + dt.timedelta(minutes=i),
            "method": "GET",
            "path": "/scim/v2/Users",
            "status": 401,
            "duration_ms": 1.0,
            "request_id": f"anon-{i}",
            "principal": None,
            "requests": 10,
        }
        for i in range(6)
    ]
    with app.app_context():
        scim_activity.write_rows(app, [], folded)
        scim_activity.write_rows(app, [], [{**folded[-1], "requests": 5, "request_id": "anon-last"}])
    recorded = rows(app)
    assert [r.request_id for r in recorded if r.principal] == idp
    anonymous = [(r.request_id, r.requests) for r in recorded if not r.principal]
    assert anonymous == [("anon-4", 10), ("anon-last", 15)]  # the same minute's row was added to


SCIM_JSON = "application/scim+json"


def test_the_page_reads_rows_written_after_its_request_began_reading(app: Flask) -> None:
    """A row another writer (the background thread, another worker) commits after this request's
    first query is still on the page: SQLite keeps a read transaction's snapshot."""
    with app.test_request_context("/admin/activity"):
        db.session.execute(sa.select(ScimActivity.id)).all()  # the request's snapshot begins
        with db.engine.begin() as other_writer:
            other_writer.execute(
                sa.insert(ScimActivity).values(
                    method="GET",
                    path="/scim/v2/Users",
                    status=200,
                    duration_ms=1.0,
                    request_id="written-meanwhile",
                    principal="token:abc",
                )
            )
        assert [row.request_id for row in scim_activity.latest()] == ["written-meanwhile"]
        assert scim_activity.summary().last.request_id == "written-meanwhile"
