"""Concurrency guarantees under real parallel HTTP against a 4-worker gunicorn (issue 7).

Run on the same kind of database as the rest of the session: SQLite by default, PostgreSQL when
``SCIMGATE_TEST_DATABASE_URL`` names one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest

from scimgate.scim import urns
from tests.support.gunicorn_server import Served, fresh_database, gunicorn
from tests.support.scim import DATA_DIR

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp("served")
    with fresh_database(database_url, tmp_path) as url, gunicorn(url, tmp_path, workers=4) as server:
        steps = [
            ("saml", "configure", "--idp-metadata", str(DATA_DIR / "idp-metadata.xml")),
            ("saml", "enable"),
            ("scim", "set-client", "okta"),
        ]
        for step in steps:
            result = server.cli(*step)
            assert result.returncode == 0, result.stderr
        token = server.cli("scim", "generate-token", "--months", "1")
        assert token.returncode == 0, token.stderr
        server.env["TOKEN"] = token.stdout.strip().splitlines()[-1]
        enabled = server.cli("scim", "enable")
        assert enabled.returncode == 0, enabled.stderr
        yield server


@pytest.fixture
def http(served: Served) -> Iterator[httpx2.Client]:
    headers = {"Authorization": f"Bearer {served.env['TOKEN']}", "Content-Type": "application/scim+json"}
    limits = httpx2.Limits(max_connections=60, max_keepalive_connections=60)
    with httpx2.Client(
        base_url=f"{served.url}/scim/v2", headers=headers, timeout=60, limits=limits
    ) as client:
        yield client


def all_at_once(count: int, call: Callable[[int], Any]) -> list[Any]:
    """Run ``call(i)`` for i in range(count) in threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def create_user(http: httpx2.Client, name: str) -> dict:
    response = http.post("/Users", json={"schemas": [urns.USER], "userName": name})
    assert response.status_code == 201, response.text
    return response.json()


def patch_body(*operations: dict) -> dict:
    return {"schemas": [urns.PATCH_OP], "Operations": list(operations)}


def test_simultaneous_creates_of_one_username(http, served):
    responses = all_at_once(
        20, lambda i: http.post("/Users", json={"schemas": [urns.USER], "userName": "race-user"})
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses if r.status_code not in (201, 409)]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["scimType"] == "uniqueness"
    found = http.get("/Users", params={"filter": 'userName eq "race-user"'}).json()
    assert found["totalResults"] == 1


def test_simultaneous_member_adds_and_removes(http):
    users = [create_user(http, f"member-{i}")["id"] for i in range(50)]
    group = http.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "race-group"}).json()
    url = f"/Groups/{group['id']}"

    adds = all_at_once(
        50,
        lambda i: http.patch(
            url, json=patch_body({"op": "add", "path": "members", "value": [{"value": users[i]}]})
        ),
    )
    assert {r.status_code for r in adds} == {200}
    after_adds = http.get(url).json()
    assert {m["value"] for m in after_adds["members"]} == set(users)
    assert after_adds["meta"]["version"] == f'W/"{1 + 50}"'

    removes = all_at_once(
        25,
        lambda i: http.patch(
            url, json=patch_body({"op": "remove", "path": f'members[value eq "{users[i]}"]'})
        ),
    )
    assert {r.status_code for r in removes} == {200}
    assert {m["value"] for m in http.get(url).json()["members"]} == set(users[25:])


def test_mixed_add_and_remove_of_one_member_ends_consistent(http):
    user = create_user(http, "flapper")["id"]
    group = http.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "flap-group"}).json()
    url = f"/Groups/{group['id']}"
    ops = [
        {"op": "add", "path": "members", "value": [{"value": user}]},
        {"op": "remove", "path": f'members[value eq "{user}"]'},
    ]
    responses = all_at_once(30, lambda i: http.patch(url, json=patch_body(ops[i % 2])))
    assert {r.status_code for r in responses} == {200}
    final = http.get(url).json()
    assert final["meta"]["version"] == f'W/"{1 + 30}"'  # every write applied exactly once
    # The last write in commit order decides; the response bodies show each write's own result, and
    # the one carrying the final version must agree with the final state.
    last = next(r.json() for r in responses if r.json()["meta"]["version"] == final["meta"]["version"])
    assert ("members" in last) == ("members" in final)


def test_simultaneous_updates_of_one_user_lose_nothing(http):
    user = create_user(http, "contended")
    url = f"/Users/{user['id']}"

    def update(i: int) -> httpx2.Response:
        if i % 2:
            return http.put(
                url, json={"schemas": [urns.USER], "userName": "contended", "displayName": f"put-{i}"}
            )
        return http.patch(
            url, json=patch_body({"op": "replace", "path": "displayName", "value": f"patch-{i}"})
        )

    responses = all_at_once(20, update)
    assert {r.status_code for r in responses} == {200}
    versions = sorted(int(r.json()["meta"]["version"][3:-1]) for r in responses)
    assert versions == list(range(2, 22))  # each write got its own version
    final = http.get(url).json()
    last = next(r.json() for r in responses if r.json()["meta"]["version"] == final["meta"]["version"])
    assert final["displayName"] == last["displayName"]

    stale = http.put(
        url, json={"schemas": [urns.USER], "userName": "contended"}, headers={"If-Match": 'W/"2"'}
    )
    assert stale.status_code == 412
    assert http.get(url).json()["displayName"] == final["displayName"]


def test_if_match_lets_exactly_one_of_racing_writers_win(http):
    user = create_user(http, "guarded")
    url = f"/Users/{user['id']}"
    version = user["meta"]["version"]
    responses = all_at_once(
        10,
        lambda i: http.put(
            url,
            json={"schemas": [urns.USER], "userName": "guarded", "displayName": f"w{i}"},
            headers={"If-Match": version},
        ),
    )
    assert sorted(r.status_code for r in responses) == [200] + [412] * 9


def test_configuration_changes_reach_every_worker(http, served):
    assert all(r.status_code == 200 for r in all_at_once(16, lambda i: http.get("/ServiceProviderConfig")))
    assert served.cli("scim", "disable").returncode == 0
    try:
        responses = all_at_once(16, lambda i: http.get("/ServiceProviderConfig"))
        assert {r.status_code for r in responses} == {403}
    finally:
        assert served.cli("scim", "enable").returncode == 0
    assert all(r.status_code == 200 for r in all_at_once(16, lambda i: http.get("/ServiceProviderConfig")))


def test_workers_are_separate_processes(served, tmp_path: Path):
    import os

    children = [p for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == served.process.pid]
    assert len(children) == 4


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_auth_failures_are_throttled_across_workers(http, served):
    """Failures spread over 4 worker processes add up in the shared database (limit 10/min)."""
    wrong = {"Authorization": "Bearer not-the-token"}
    responses = all_at_once(14, lambda i: http.get("/Users", headers=wrong))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(401) == 9 and statuses.count(429) == 5, statuses
    later = http.get("/Users", headers=wrong)
    assert later.status_code == 429 and int(later.headers["Retry-After"]) > 0
    assert http.get("/Users").status_code == 200  # the valid token is never throttled


def test_production_command_with_4_workers_passes_scim2_tester(served, capsys):
    from tests.support.scim2_tester import assert_checker_passes, run_checker_at

    results = run_checker_at(served.url, {"Authorization": f"Bearer {served.env['TOKEN']}"})

    def report(line: str) -> None:
        with capsys.disabled():
            print(f"\n{line} (gunicorn, 4 workers)")

    assert_checker_passes(None, "okta", report, results=results)


def _bulk_users(database_url: str, prefix: str, count: int) -> list[str]:
    """Insert SCIM users straight into the served database; return their SCIM ids."""
    import uuid

    import sqlalchemy as sa

    from scimgate.models import ScimUser, User, UserProfile, utcnow

    engine = sa.create_engine(database_url)
    now = utcnow()
    with engine.begin() as conn:
        ids = (
            conn.execute(
                sa.insert(User).returning(User.id, sort_by_parameter_order=True),
                [
                    {
                        "username": f"{prefix}{i}",
                        "is_active": True,
                        "first_name": "",
                        "last_name": "",
                        "email": "",
                        "date_joined": now,
                    }
                    for i in range(count)
                ],
            )
            .scalars()
            .all()
        )
        conn.execute(
            sa.insert(UserProfile), [{"user_id": i, "display_name": "", "is_suspended": False} for i in ids]
        )
        scim_ids = [str(uuid.uuid4()) for _ in ids]
        conn.execute(
            sa.insert(ScimUser),
            [
                {
                    "user_id": i,
                    "scim_user_uuid": s,
                    "client": "okta",
                    "created": now,
                    "last_modified": now,
                    "version": 1,
                }
                for i, s in zip(ids, scim_ids, strict=True)
            ],
        )
    engine.dispose()
    return scim_ids


def _worker_pids(served: Served) -> list[int]:
    import os

    return [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == served.process.pid]


def _kill_workers_during(served: Served, request: Callable[[], httpx2.Response], delay: float) -> object:
    """Start ``request`` in a thread, SIGKILL every worker after ``delay`` s; return its outcome."""
    import os
    import signal
    import time

    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["response"] = request()
        except httpx2.TransportError as error:
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(delay)
    for pid in _worker_pids(served):
        os.kill(pid, signal.SIGKILL)
    thread.join(timeout=60)
    deadline = time.monotonic() + 30
    while len(_worker_pids(served)) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    return outcome.get("error") or outcome.get("response")


def _get_when_back(http: httpx2.Client, url: str, **kwargs: object) -> httpx2.Response:
    import time

    deadline = time.monotonic() + 30
    while True:
        try:
            return http.get(url, **kwargs)
        except httpx2.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_worker_killed_mid_transaction_leaves_no_partial_change(http, served):
    old = _bulk_users(served.env["SCIMGATE_DATABASE_URL"], "old-", 2_000)
    new = _bulk_users(served.env["SCIMGATE_DATABASE_URL"], "new-", 30_000)
    group = http.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "killed-mid-put"}).json()
    url = f"/Groups/{group['id']}"
    old_body = {
        "schemas": [urns.GROUP],
        "displayName": "killed-mid-put",
        "members": [{"value": v} for v in old],
    }
    assert http.put(url, json=old_body).status_code == 200
    version = http.get(url, params={"excludedAttributes": "members"}).json()["meta"]["version"]

    delay, interrupted = 0.8, False
    for _attempt in range(5):
        outcome = _kill_workers_during(
            served,
            lambda: http.put(
                url,
                json={
                    "schemas": [urns.GROUP],
                    "displayName": "renamed",
                    "members": [{"value": v} for v in new],
                },
            ),
            delay,
        )
        if isinstance(outcome, httpx2.TransportError):
            interrupted = True
            break
        # The PUT finished before the kill (a fast machine): restore and kill sooner.
        assert _get_when_back(http, "/ServiceProviderConfig").status_code == 200
        assert http.put(url, json=old_body).status_code == 200
        version = http.get(url, params={"excludedAttributes": "members"}).json()["meta"]["version"]
        delay /= 2
    assert interrupted, "could not kill the workers while the PUT was running"

    # All or nothing: either the old state (the kill came first) or the complete new one (the
    # kill came after the commit, while the response was being written) - never a mix.
    after = _get_when_back(http, url, params={"excludedAttributes": "members"}).json()
    committed = after["displayName"] == "renamed"
    expected_version = f'W/"{int(version[3:-1]) + 1}"' if committed else version
    assert after["meta"]["version"] == expected_version
    in_group = [old[0], old[-1], new[0], new[len(new) // 2], new[-1]]
    memberships = [bool(http.get(f"/Users/{u}").json().get("groups")) for u in in_group]
    assert memberships == (
        [False, False, True, True, True] if committed else [True, True, False, False, False]
    )
    total = http.get("/Groups", params={"filter": f'members.value eq "{new[-1]}"', "count": 0}).json()
    assert total["totalResults"] == (1 if committed else 0)


def test_serialization_failures_are_retried_not_surfaced(database_url, tmp_path_factory):
    """Under SERIALIZABLE isolation PostgreSQL aborts some of these racing transactions with
    40001; the server retries them, so every request still succeeds and nothing is lost."""
    if not database_url.startswith("postgresql"):
        pytest.skip("serialization failures are a PostgreSQL behaviour; SQLite serializes writers")
    tmp_path = tmp_path_factory.mktemp("serializable")
    with fresh_database(database_url, tmp_path) as url:
        url = url.replace("options=", "options=-cdefault_transaction_isolation%3Dserializable%20")
        with gunicorn(url, tmp_path, workers=4) as server:
            for step in (
                ("saml", "configure", "--idp-metadata", str(DATA_DIR / "idp-metadata.xml")),
                ("saml", "enable"),
                ("scim", "set-client", "okta"),
            ):
                assert server.cli(*step).returncode == 0
            token = server.cli("scim", "generate-token", "--months", "1").stdout.strip().splitlines()[-1]
            assert server.cli("scim", "enable").returncode == 0
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
            limits = httpx2.Limits(max_connections=40)
            with httpx2.Client(
                base_url=f"{server.url}/scim/v2", headers=headers, timeout=60, limits=limits
            ) as http:
                users = [create_user(http, f"s{i}")["id"] for i in range(30)]
                groups = [
                    http.post("/Groups", json={"schemas": [urns.GROUP], "displayName": f"sg{i}"}).json()["id"]
                    for i in range(3)
                ]
                responses = all_at_once(
                    30,
                    lambda i: http.patch(
                        f"/Groups/{groups[i % 3]}",
                        json=patch_body({"op": "add", "path": "members", "value": [{"value": users[i]}]}),
                    ),
                )
                assert {r.status_code for r in responses} == {200}
                found = set()
                for group in groups:
                    found |= {m["value"] for m in http.get(f"/Groups/{group}").json()["members"]}
                assert found == set(users)
            retries = (tmp_path / "logs" / "scim-info.log").read_text().count("db.retry")
            print(f"\nserializable run: {retries} transactions retried")
            assert retries > 0
