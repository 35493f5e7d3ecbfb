"""PostgreSQL going away: every connection-level failure is 503 with ``Retry-After`` (a SCIM error
on /scim/v2, the API's JSON error, a page that says so), never 500; scimgate recovers by itself
when the database accepts again; no acknowledged write is lost.

Each test runs a private PostgreSQL of its own (``tests.pg_private``, a spare loopback port) that
it stops, kills and restarts; the shared cluster at 127.0.0.1:5432 is never touched. They run in
the SQLite pass of ``scripts/test`` only: they bring their own database, so the PostgreSQL pass
would only repeat them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa

from scimgate import create_app
from scimgate.extensions import db
from scimgate.scim import urns
from tests.support.db_faults import assert_scim_error, scim_http, set_up_scim, user_body, worker_pids
from tests.support.gunicorn_server import gunicorn
from tests.support.pg_private import PrivatePostgres, private_postgres
from tests.support.signin import Api, add_admin, configure_dev_saml, password_sign_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(os.environ.get("SCIMGATE_TEST_DATABASE_URL")),
        reason="runs in the SQLite pass only: it brings its own PostgreSQL server",
    ),
]

RECOVERY_SECONDS = 10


@pytest.fixture(scope="module")
def running_pg() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


@pytest.fixture
def pg(running_pg: PrivatePostgres) -> Iterator[PrivatePostgres]:
    """The module's private server, running again after each test whatever the test did to it.
    Each test serves a database of its own on it (``database``)."""
    yield running_pg
    if not running_pg.is_ready():
        running_pg.start()


@pytest.fixture
def database(pg: PrivatePostgres) -> str:
    """A new empty database on the private server."""
    return pg.new_database()


@dataclass
class Writes:
    """What a writer loop sent and what it got back."""

    results: list[tuple[float, str, int, httpx2.Response]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, response: httpx2.Response) -> None:
        with self.lock:
            self.results.append((time.monotonic(), name, response.status_code, response))

    def acknowledged(self) -> dict[str, str]:
        with self.lock:
            return {name: r.json()["id"] for _, name, status, r in self.results if 200 <= status < 300}

    def count_ok_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for at, _, status, _ in self.results if at >= moment and 200 <= status < 300)

    def count_since(self, moment: float, status: int) -> int:
        with self.lock:
            return sum(1 for at, _, s, _ in self.results if at >= moment and s == status)


def _writer(http: httpx2.Client, prefix: str, writes: Writes, stop: threading.Event, limit: int) -> None:
    for i in range(limit):
        if stop.is_set():
            return
        name = f"{prefix}-{i}"
        writes.add(name, http.post("/Users", json=user_body(name)))
        time.sleep(0.01)


def _wait_for(condition, seconds: float, what: str) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, f"no {what} within {seconds} s"
        time.sleep(0.02)
    return time.monotonic() - start


def test_writes_while_postgres_crashes_and_restarts_get_503_never_500_and_nothing_acknowledged_is_lost(
    pg: PrivatePostgres, database: str, tmp_path: Path
) -> None:
    with gunicorn(database, tmp_path, workers=2) as served:
        token = set_up_scim(served)
        workers = worker_pids(served)
        writes, stop = Writes(), threading.Event()
        with scim_http(served.url, token) as http:
            threads = [
                threading.Thread(target=_writer, args=(http, f"w{n}", writes, stop, 2000), daemon=True)
                for n in range(4)
            ]
            for thread in threads:
                thread.start()
            try:
                for outage, break_it in (("immediate stop", pg.stop), ("SIGKILL", pg.kill)):
                    began = time.monotonic()
                    _wait_for(
                        lambda began=began: writes.count_ok_since(began) >= 20, 30, "writes before the outage"
                    )
                    down = time.monotonic()
                    break_it()
                    _wait_for(
                        lambda down=down: writes.count_since(down, 503) >= 8, 30, f"503 after the {outage}"
                    )
                    pg.start()
                    up = time.monotonic()
                    took = _wait_for(
                        lambda up=up: writes.count_ok_since(up) >= 1,
                        RECOVERY_SECONDS,
                        f"2xx after the {outage}",
                    )
                    print(f"{outage}: first 2xx {took:.2f} s after PostgreSQL accepted again")
                    _wait_for(
                        lambda up=up: writes.count_ok_since(up) >= 20, 30, f"steady writes after the {outage}"
                    )
            finally:
                stop.set()
                for thread in threads:
                    thread.join(timeout=60)

            statuses = [status for _, _, status, _ in writes.results]
            assert 500 not in statuses, [r.text for _, _, s, r in writes.results if s == 500][:3]
            for _, _, status, response in writes.results:
                if status != 201:
                    assert_scim_error(response, (503,))
            assert statuses.count(503) >= 16
            assert worker_pids(served) == workers, "a worker was restarted"

            acknowledged = writes.acknowledged()
            for name, user_id in acknowledged.items():
                read = http.get(f"/Users/{user_id}")
                assert read.status_code == 200, (name, read.text)
        engine = sa.create_engine(database)
        try:
            with engine.connect() as conn:
                stored = set(conn.execute(sa.text("SELECT username FROM auth_user")).scalars())
        finally:
            engine.dispose()
        assert set(acknowledged) <= stored, sorted(set(acknowledged) - stored)[:5]


def test_scimgate_started_while_postgres_is_down_answers_503_then_serves(
    pg: PrivatePostgres, database: str, tmp_path: Path
) -> None:
    with gunicorn(database, tmp_path, workers=1) as served:
        token = set_up_scim(served)
    pg.stop()
    with (
        gunicorn(database, tmp_path, workers=1, migrate=False) as served,
        scim_http(served.url, token) as http,
    ):
        listing = http.get("/Users")
        assert_scim_error(listing, (503,))
        created = http.post("/Users", json=user_body("while-down"))
        assert_scim_error(created, (503,))
        ready = http.get(f"{served.url}/readyz")
        assert ready.status_code == 503 and ready.json() == {"status": "unavailable"}
        assert http.get(f"{served.url}/healthz").status_code == 200
        page = httpx2.get(f"{served.url}/login", timeout=30)
        assert page.status_code == 503, page.text
        assert page.headers["Content-Type"].startswith("text/html")
        assert "database" in page.text and "Traceback" not in page.text
        assert page.headers.get("Retry-After", "").isdigit()

        pg.start()
        _wait_for(lambda: http.get("/Users").status_code == 200, RECOVERY_SECONDS, "SCIM 200 after start")
        created = http.post("/Users", json=user_body("after-up"))
        assert created.status_code == 201, created.text
        assert http.get(f"{served.url}/readyz").status_code == 200
        assert httpx2.get(f"{served.url}/login", timeout=30).status_code == 200


def test_pages_and_the_admin_api_answer_503_while_postgres_is_down(
    pg: PrivatePostgres, database: str, tmp_path: Path
) -> None:
    app = create_app(
        "production",
        overrides={
            "SQLALCHEMY_DATABASE_URI": database,
            "LOG_DIR": str(tmp_path / "logs"),
            "SECRET_KEY": "x" * 32,
            "SESSION_COOKIE_SECURE": False,
        },
    )
    with app.app_context():
        db.create_all()
        add_admin()
    scim_headers = configure_dev_saml(app, scim=True)
    client = app.test_client()
    assert password_sign_in(client, "admin").status_code == 302
    api = Api(client)
    assert api.get("/users").status_code == 200
    api.token()

    pg.stop()
    refused = api.get("/users")
    assert refused.status_code == 503, refused.get_data(as_text=True)
    assert refused.get_json()["error"] == "database_unavailable"
    assert refused.headers.get("Retry-After", "").isdigit()
    change = api.post("/users/1/suspend")
    assert change.status_code == 503, change.get_data(as_text=True)
    page = client.get("/admin/users")
    assert page.status_code == 503
    assert page.mimetype == "text/html" and "database" in page.get_data(as_text=True)
    scim = client.get("/scim/v2/Users", headers=scim_headers)
    assert scim.status_code == 503 and scim.get_json()["status"] == "503"
    assert client.get("/readyz").status_code == 503

    pg.start()
    _wait_for(lambda: api.get("/users").status_code == 200, RECOVERY_SECONDS, "API 200 after start")
    assert client.get("/admin/users").status_code == 200
    assert client.get("/scim/v2/Users", headers=scim_headers).status_code == 200
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _backends_waiting(engine: sa.Engine, wait_event: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event = :event"), {"event": wait_event}
        ).scalar_one()


def _autocommit(engine: sa.Engine, *statements: str) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def _lost_while_auth_user_is_locked(
    pg: PrivatePostgres, engine: sa.Engine, pool: ThreadPoolExecutor, request: Callable[[], httpx2.Response]
) -> httpx2.Response:
    """Send ``request`` while another session holds ``auth_user`` locked, stop PostgreSQL while
    the request waits for the lock, start it again; the request's answer, a 503."""
    holder = engine.connect()
    holder.begin()
    holder.exec_driver_sql("LOCK TABLE auth_user IN ACCESS EXCLUSIVE MODE")
    pending = pool.submit(request)
    _wait_for(lambda: _backends_waiting(engine, "relation") >= 1, 30, "the write waiting for the lock")
    pg.stop()
    holder.invalidate()
    holder.close()
    lost = pending.result(timeout=60)
    assert_scim_error(lost, (503,))
    pg.start()
    engine.dispose()
    return lost


def test_a_connection_lost_inside_a_write_is_503_and_says_whether_the_write_may_have_been_saved(
    pg: PrivatePostgres, database: str, tmp_path: Path
) -> None:
    """Lost while waiting inside the transaction (a PATCH): nothing was saved, and the 503 says
    so. Lost while a create's one statement waited (a create is its own transaction on
    PostgreSQL, ``db.transactions.one_statement_write``): the server cannot tell that wait from
    its commit, so the 503 says the change may have been saved; here it was not, and a retry
    creates it. Lost while the COMMIT was on its way (held here by a synchronous standby that
    never answers): the change may have been saved, the 503 says that, and here it was (a retry
    gets 409)."""
    with (
        gunicorn(database, tmp_path, workers=2) as served,
        scim_http(served.url, set_up_scim(served)) as http,
    ):
        engine = sa.create_engine(database, pool_pre_ping=True)
        patched = http.post("/Users", json=user_body("patched-before-commit"))
        assert patched.status_code == 201, patched.text
        deactivate = {
            "schemas": [urns.PATCH_OP],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        }
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                # 1. Inside the transaction, before COMMIT: the PATCH waits for a table lock.
                lost = _lost_while_auth_user_is_locked(
                    pg, engine, pool, lambda: http.patch(f"/Users/{patched.json()['id']}", json=deactivate)
                )
                assert "nothing was changed" in lost.json()["detail"], lost.text
                _wait_for(
                    lambda: http.get("/Users").status_code == 200, RECOVERY_SECONDS, "SCIM 200 after start"
                )
                kept = http.get(f"/Users/{patched.json()['id']}")
                assert kept.status_code == 200 and kept.json()["active"] is True, kept.text

                # 1b. A create's one statement waits for the lock: an honest "may or may not".
                lost = _lost_while_auth_user_is_locked(
                    pg, engine, pool, lambda: http.post("/Users", json=user_body("lost-before-commit"))
                )
                assert "may or may not have been saved" in lost.json()["detail"], lost.text
                _wait_for(
                    lambda: http.get("/Users").status_code == 200, RECOVERY_SECONDS, "SCIM 200 after start"
                )
                absent = http.get("/Users", params={"filter": 'userName eq "lost-before-commit"'})
                assert absent.json()["totalResults"] == 0, absent.text
                assert http.post("/Users", json=user_body("lost-before-commit")).status_code == 201

                # 2. During COMMIT: the commit waits for a synchronous standby that does not exist.
                _autocommit(
                    engine, "ALTER SYSTEM SET synchronous_standby_names = 'nobody'", "SELECT pg_reload_conf()"
                )
                pending = pool.submit(http.post, "/Users", json=user_body("lost-at-commit"))
                _wait_for(
                    lambda: _backends_waiting(engine, "SyncRep") >= 1, 30, "the COMMIT waiting for a standby"
                )
                pg.stop()
                ambiguous = pending.result(timeout=60)
                assert_scim_error(ambiguous, (503,))
                assert "may or may not have been saved" in ambiguous.json()["detail"], ambiguous.text
                pg.start()
                engine.dispose()
                _autocommit(engine, "ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()")
                _wait_for(
                    lambda: http.get("/Users").status_code == 200, RECOVERY_SECONDS, "SCIM 200 after start"
                )
                # The wait above proved one worker reconnected; the other may still keep a
                # connection from before the restart: it sees the server ended it before using
                # it (scimgate.db.liveness), so no request fails.
                saved = http.get("/Users", params={"filter": 'userName eq "lost-at-commit"'})
                assert saved.status_code == 200 and saved.json()["totalResults"] == 1, saved.text
                retried = http.post("/Users", json=user_body("lost-at-commit"))
                assert retried.status_code == 409, retried.text
                assert retried.json()["schemas"] == [urns.ERROR]
        finally:
            if pg.is_ready():
                _autocommit(engine, "ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()")
            engine.dispose()
