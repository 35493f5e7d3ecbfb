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
from tests.conftest import DATA_DIR
from tests.gunicorn_server import Served, fresh_database, gunicorn

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
    responses = all_at_once(20, lambda i: http.post("/Users", json={"userName": "race-user"}))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses if r.status_code not in (201, 409)]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["scimType"] == "uniqueness"
    found = http.get("/Users", params={"filter": 'userName eq "race-user"'}).json()
    assert found["totalResults"] == 1


def test_simultaneous_member_adds_and_removes(http):
    users = [create_user(http, f"member-{i}")["id"] for i in range(50)]
    group = http.post("/Groups", json={"displayName": "race-group"}).json()
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
    group = http.post("/Groups", json={"displayName": "flap-group"}).json()
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
            return http.put(url, json={"userName": "contended", "displayName": f"put-{i}"})
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

    stale = http.put(url, json={"userName": "contended"}, headers={"If-Match": 'W/"2"'})
    assert stale.status_code == 412
    assert http.get(url).json()["displayName"] == final["displayName"]


def test_if_match_lets_exactly_one_of_racing_writers_win(http):
    user = create_user(http, "guarded")
    url = f"/Users/{user['id']}"
    version = user["meta"]["version"]
    responses = all_at_once(
        10,
        lambda i: http.put(
            url, json={"userName": "guarded", "displayName": f"w{i}"}, headers={"If-Match": version}
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
