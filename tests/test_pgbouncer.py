"""scimgate behind PgBouncer in transaction pooling mode (issue 19), and its round trips to PostgreSQL.

In transaction mode each transaction may run on another server connection, so nothing may
outlive a transaction on the server. What could: psycopg's server-side prepared statements
(after a statement's fifth run on a connection), switched off with
``DATABASE_PREPARED_STATEMENTS = False``; session ``SET``s (scimgate sends none); a server-side
cursor (it lives inside its transaction). These tests run every kind of statement scimgate sends
through a PgBouncer (``tests/support/pgbouncer.py``): SCIM users and groups written, patched,
filtered and paged with cursors, the token check and its failure throttle, configuration writes,
admin API writes with their audit events, and, with several gunicorn workers, the serialization
retry. ``pytest -m pgbouncer`` runs them alone; they are part of every run (they bring their
PgBouncer and their database).

Liveness: no ping per request (``config/production.py``). A connection that a restarted
PgBouncer or PostgreSQL ended is seen as ended before the next request uses it (its socket has
the server's goodbye to read: ``scimgate.db.liveness``, no round trip) and replaced, so a restart
costs no failed request.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from scimgate import create_app
from scimgate.extensions import db
from scimgate.logs import activity as scim_activity
from scimgate.scim import urns
from scimgate_config import load_config
from scimgate_config.production import ProductionConfig
from tests.support.audit import last_id, one_event_after
from tests.support.gunicorn_server import gunicorn
from tests.support.pg_private import private_postgres
from tests.support.pgbouncer import SHARED_POSTGRES, pgbouncer, private_database
from tests.support.round_trips import RoundTripRelay
from tests.support.scim import DATA_DIR, ScimClient, configure_scim
from tests.support.signin import Api, add_admin, password_sign_in
from tests.support.sql_counter import count_statements

pytestmark = pytest.mark.pgbouncer

# More runs of each statement than psycopg's prepare_threshold (5): had it prepared one on a
# server connection, a later transaction on another server connection would fail.
REPEAT = 8


def _behind_pooler_app(url: str, log_dir: Path) -> Flask:
    """A testing app with production's engine options and prepared statements off."""
    application = create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": dict(ProductionConfig.SQLALCHEMY_ENGINE_OPTIONS),
            "DATABASE_PREPARED_STATEMENTS": False,
            "LOG_DIR": str(log_dir),
        },
    )
    with application.app_context():
        db.create_all()
    return application


def _dispose(application: Flask) -> None:
    with application.app_context():
        scim_activity.flush_all()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def app(pgbouncer_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """This module's app: the session's PgBouncer (overrides the suite's ``app``)."""
    application = _behind_pooler_app(pgbouncer_url, tmp_path_factory.mktemp("pgbouncer-logs"))
    yield application
    _dispose(application)


def _user(scim: ScimClient, name: str) -> dict:
    response = scim.post("/Users", json={"schemas": [urns.USER], "userName": name, "active": True})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _patch(*operations: dict) -> dict:
    return {"schemas": [urns.PATCH_OP], "Operations": list(operations)}


def test_prepared_statements_are_off_behind_the_pooler(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        assert conn.connection.dbapi_connection.prepare_threshold is None  # type: ignore[union-attr]


def test_the_setting_comes_from_the_environment() -> None:
    environ = {"SCIMGATE_DATABASE_PREPARED_STATEMENTS": "false"}
    assert load_config("production", environ)["DATABASE_PREPARED_STATEMENTS"] is False
    assert load_config("production", {})["DATABASE_PREPARED_STATEMENTS"] is True


def test_users_written_patched_filtered_and_paged(scim: ScimClient) -> None:
    ids = [_user(scim, f"user{i}")["id"] for i in range(REPEAT)]
    for i, scim_id in enumerate(ids):
        got = scim.get(f"/Users/{scim_id}")
        assert got.status_code == 200 and got.get_json()["userName"] == f"user{i}"
        found = scim.get("/Users", query_string={"filter": f'userName eq "user{i}"'}).get_json()
        assert [r["id"] for r in found["Resources"]] == [scim_id]
        patched = scim.patch(
            f"/Users/{scim_id}", json=_patch({"op": "replace", "path": "name.givenName", "value": f"G{i}"})
        )
        assert patched.status_code == 200 and patched.get_json()["name"]["givenName"] == f"G{i}"
        body = {"schemas": [urns.USER], "userName": f"user{i}", "displayName": f"User {i}", "active": True}
        assert scim.put(f"/Users/{scim_id}", json=body).status_code == 200
    seen, cursor = [], ""
    while cursor is not None:
        page = scim.get("/Users", query_string={"cursor": cursor, "count": 3}).get_json()
        seen += [r["id"] for r in page["Resources"]]
        cursor = page.get("nextCursor")
    assert sorted(seen) == sorted(ids)
    assert scim.get("/Users", query_string={"startIndex": 4, "count": 2}).get_json()["totalResults"] == REPEAT
    for scim_id in ids[:3]:
        assert scim.delete(f"/Users/{scim_id}").status_code == 204
        assert scim.get(f"/Users/{scim_id}").status_code == 404


def test_groups_and_their_members(app: Flask, scim: ScimClient) -> None:
    users = [_user(scim, f"member{i}")["id"] for i in range(REPEAT)]
    group = scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "Staff"}).get_json()
    for scim_id in users:
        added = scim.patch(
            f"/Groups/{group['id']}",
            json=_patch({"op": "add", "path": "members", "value": [{"value": scim_id}]}),
        )
        assert added.status_code in (200, 204)
    members = scim.get(f"/Groups/{group['id']}").get_json()["members"]
    assert sorted(m["value"] for m in members) == sorted(users)
    app.config["SCIM_STREAM_MEMBERS_ABOVE"] = 3  # streamed: a server-side cursor in its transaction
    try:
        streamed = scim.get(f"/Groups/{group['id']}", buffered=True).get_json()["members"]
    finally:
        app.config["SCIM_STREAM_MEMBERS_ABOVE"] = 5000
    assert streamed == members
    removed = scim.patch(
        f"/Groups/{group['id']}", json=_patch({"op": "remove", "path": f'members[value eq "{users[0]}"]'})
    )
    assert removed.status_code in (200, 204)
    found = scim.get("/Groups", query_string={"filter": f'members.value eq "{users[1]}"'}).get_json()
    assert [r["id"] for r in found["Resources"]] == [group["id"]]
    assert (
        scim.get("/Groups", query_string={"filter": f'members.value eq "{users[0]}"'}).get_json()[
            "totalResults"
        ]
        == 0
    )
    body = {"schemas": [urns.GROUP], "displayName": "Team", "members": [{"value": users[2]}]}
    assert scim.put(f"/Groups/{group['id']}", json=body).get_json()["displayName"] == "Team"
    assert scim.delete(f"/Groups/{group['id']}").status_code == 204


def test_token_check_and_its_failures(app: Flask, client: FlaskClient, scim_headers: dict[str, str]) -> None:
    statuses = []
    for _ in range(app.config["AUTH_FAILURE_LIMIT"] + 1):
        assert client.get("/scim/v2/Users", headers=scim_headers).status_code == 200
        refused = client.get("/scim/v2/Users", headers={"Authorization": "Bearer not-the-token"})
        statuses.append(refused.status_code)  # each failure is counted (a write) until throttled
    assert statuses[0] == 401 and statuses[-1] == 429, statuses


def test_configuration_and_admin_api_writes_with_their_audit_events(app: Flask, client: FlaskClient) -> None:
    configure_scim(app)  # SAML metadata, client, token and sync switch: configuration writes
    with app.app_context():
        add_admin("chief")
    assert password_sign_in(client, "chief").status_code == 302
    api = Api(client)
    for i in range(REPEAT):
        mark = last_id(app)
        created = api.post("/groups", {"name": f"Team {i}", "members": []})
        assert created.status_code == 201, created.get_data(as_text=True)
        event = one_event_after(app, mark)
        assert (event.actor, event.action, event.target_name) == ("admin:chief", "group.created", f"Team {i}")
        renamed = api.patch(f"/groups/{created.get_json()['id']}", {"name": f"Crew {i}"})
        assert renamed.status_code == 200
    assert len(api.get("/groups").get_json()["groups"]) >= REPEAT


def _round_trips(relay: RoundTripRelay, app: Flask, call: Callable[[], object]) -> tuple[int, int]:
    """(round trips, statements) of one call, the fewest of three (the activity writer's
    background flush shares the relay)."""
    counts = []
    for _ in range(3):
        with app.app_context():
            scim_activity.flush_all()
        with count_statements(app) as statements:
            before = relay.count
            call()
            trips = relay.count - before
        counts.append((trips, len(statements)))
    return min(counts)


@contextmanager
def _relayed_scim() -> Iterator[tuple[RoundTripRelay, Flask, ScimClient]]:
    """A configured app on a private database of the shared server, reached through a relay
    that counts the round trips (production's engine options); disposed after."""
    with (
        private_database(SHARED_POSTGRES) as url,
        RoundTripRelay("127.0.0.1", 5432) as relay,
    ):
        application = _behind_pooler_app(relay.url_for(url), Path(tempfile.mkdtemp(prefix="scimgate-rt-")))
        try:
            yield relay, application, ScimClient(application.test_client(), configure_scim(application))
        finally:
            _dispose(application)


def test_a_get_by_id_and_a_filter_with_their_token_check_take_two_round_trips_each() -> None:
    """On PostgreSQL directly, production's engine options: one round trip per statement (the
    configuration version check and the read); none for pool liveness, BEGIN or ROLLBACK."""
    with _relayed_scim() as (relay, application, scim):
        scim_id = _user(scim, "alice")["id"]
        get = _round_trips(relay, application, lambda: scim.get(f"/Users/{scim_id}"))
        query = {"filter": 'userName eq "alice"'}
        search = _round_trips(relay, application, lambda: scim.get("/Users", query_string=query))
        print(f"\nround trips (statements): GET by id {get}, filter userName eq {search}")
        assert get == (2, 2)
        assert search == (2, 2)


def test_a_user_create_takes_two_round_trips_and_a_patch_three() -> None:
    """A create is the token check and ONE statement (its account, profile, SCIM link and audit
    event) run as its own transaction: no BEGIN, no COMMIT (``db.transactions.one_statement_write``).
    A PATCH is the token check, the user's read and one statement that writes if the version
    read still holds (``services.user_statements``)."""
    with _relayed_scim() as (relay, application, scim):
        names = iter(range(3))
        create = _round_trips(relay, application, lambda: _user(scim, f"new{next(names)}"))
        scim_id = _user(scim, "patched")["id"]
        flips = iter(range(3))
        patch = _round_trips(
            relay,
            application,
            lambda: scim.patch(
                f"/Users/{scim_id}",
                json=_patch({"op": "replace", "value": {"active": next(flips) % 2 == 1}}),
            ),
        )
        print(f"\nround trips (statements): POST /Users {create}, PATCH {patch}")
        assert create == (2, 2)
        assert patch == (3, 3)


def test_adding_a_hundred_members_is_one_insert_statement_on_the_server() -> None:
    """The membership insert of a 100-member PATCH runs as ONE command on the server (an array
    parameter), where an executemany ran one per row (psycopg pipelines those into one round trip,
    but the server still parses, binds and executes each); every statement is one round trip."""
    with _relayed_scim() as (relay, application, scim):
        users = [_user(scim, f"member{i}")["id"] for i in range(200)]
        created = scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "Big"})
        group = created.get_json()["id"]
        for batch in (users[:100], users[100:]):
            operation = {"op": "add", "path": "members", "value": [{"value": value} for value in batch]}
            with application.app_context():
                scim_activity.flush_all()
            with count_statements(application) as statements:
                before, commands_before = relay.count, relay.commands
                response = scim.patch(f"/Groups/{group}", json=_patch(operation))
                trips, commands = relay.count - before, relay.commands - commands_before
            assert response.status_code in (200, 204), response.get_data(as_text=True)
            print(f"\nadd 100 members: {trips} round trips, {commands} commands, {len(statements)} stmts")
            assert trips <= len(statements) + 2  # and the transaction's BEGIN and COMMIT
            assert commands <= len(statements) + 2
        assert len(scim.get(f"/Groups/{group}").get_json()["members"]) == 200


def _no_request_fails_across(restart: Callable[[], None], url: str, log_dir: Path) -> None:
    """A user read before and after ``restart``: every read is 200. The restart ended the
    connection this thread keeps; it is seen as ended and replaced before use (no 503)."""
    application = _behind_pooler_app(url, log_dir)
    try:
        scim = ScimClient(application.test_client(), configure_scim(application))
        scim_id = _user(scim, "alice")["id"]
        assert scim.get(f"/Users/{scim_id}").status_code == 200
        restart()
        for _ in range(3):
            response = scim.get(f"/Users/{scim_id}")
            assert response.status_code == 200, response.get_data(as_text=True)
    finally:
        _dispose(application)


@pytest.mark.slow
def test_a_restarted_pgbouncer_costs_no_failed_request(tmp_path: Path) -> None:
    with private_database(SHARED_POSTGRES) as url, pgbouncer(url) as bouncer:
        _no_request_fails_across(bouncer.restart, bouncer.url, tmp_path)


@pytest.mark.slow
def test_a_restarted_postgres_costs_no_failed_request(tmp_path: Path) -> None:
    with private_postgres() as pg:

        def restart() -> None:
            pg.stop()
            pg.start()

        _no_request_fails_across(restart, pg.new_database(), tmp_path)


@pytest.mark.slow
def test_serialization_failures_are_retried_behind_the_pooler(tmp_path: Path) -> None:
    """test_concurrency's race under SERIALIZABLE, four gunicorn workers through one PgBouncer.

    The isolation level is the database's default (``ALTER DATABASE``): the ``options`` startup
    parameter does not pass through PgBouncer 1.18."""
    with private_database(SHARED_POSTGRES) as url:
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = sa.engine.make_url(url).database
            conn.execute(sa.text(f'ALTER DATABASE "{name}" SET default_transaction_isolation = serializable'))
        admin.dispose()
        with (
            pgbouncer(url) as bouncer,
            gunicorn(
                bouncer.url, tmp_path, settings={"SCIMGATE_DATABASE_PREPARED_STATEMENTS": "false"}
            ) as server,
        ):
            for step in (
                ("saml", "configure", "--idp-metadata", str(DATA_DIR / "idp-metadata.xml")),
                ("saml", "enable"),
                ("scim", "set-client", "okta"),
            ):
                assert server.cli(*step).returncode == 0
            token = server.cli("scim", "generate-token", "--months", "1").stdout.strip().splitlines()[-1]
            assert server.cli("scim", "enable").returncode == 0
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
            with httpx2.Client(
                base_url=f"{server.url}/scim/v2",
                headers=headers,
                timeout=60,
                limits=httpx2.Limits(max_connections=40),
            ) as http:
                users = []
                for i in range(30):
                    created = http.post("/Users", json={"schemas": [urns.USER], "userName": f"s{i}"})
                    assert created.status_code == 201, created.text
                    users.append(created.json()["id"])
                groups = [
                    http.post("/Groups", json={"schemas": [urns.GROUP], "displayName": f"sg{i}"}).json()["id"]
                    for i in range(3)
                ]
                with ThreadPoolExecutor(30) as pool:
                    responses = list(
                        pool.map(
                            lambda i: http.patch(
                                f"/Groups/{groups[i % 3]}",
                                json=_patch({"op": "add", "path": "members", "value": [{"value": users[i]}]}),
                            ),
                            range(30),
                        )
                    )
                assert {r.status_code for r in responses} == {200}
                found = set()
                for group in groups:
                    found |= {m["value"] for m in http.get(f"/Groups/{group}").json()["members"]}
                assert found == set(users)
            retries = (tmp_path / "logs" / "scim-info.log").read_text().count("db.retry")
            print(f"\nserializable run behind PgBouncer: {retries} transactions retried")
            assert retries > 0
