"""A full disk: a refused write is a SCIM 507, reads keep working, writes succeed again as soon as
there is space, on the same worker and without a restart, and nothing acknowledged is lost.

The database (SQLite and its -wal/-shm, or a private PostgreSQL's data directory) lives on a
small tmpfs mounted by the test (root; a refused mount fails the test). For SQLite, gunicorn with
one sync worker serves it: that worker's one thread keeps its SQLite connection between
requests, which is where a failed commit used to leave a transaction behind and wedge every
later request.

Runs in the SQLite pass of ``scripts/test`` only (each test brings its own database, so the
PostgreSQL pass would only repeat it).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.db_faults import (
    assert_scim_error,
    fill,
    scim_http,
    set_up_scim,
    small_filesystem,
    user_body,
    worker_pids,
)
from tests.support.gunicorn_server import gunicorn
from tests.support.pg_private import private_postgres

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(os.environ.get("SCIMGATE_TEST_DATABASE_URL")),
        reason="runs in the SQLite pass only: each test brings its own database",
    ),
]

MAX_WRITES_UNTIL_FULL = 3000


def test_a_full_disk_refuses_writes_with_507_keeps_reads_and_recovers_without_restart(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "small", "6m") as small:
        database = small / "scimgate.db"
        with gunicorn(f"sqlite:///{database}", tmp_path, workers=1) as served:
            token = set_up_scim(served)
            workers = worker_pids(served)
            acknowledged: dict[str, str] = {}  # userName -> id of every 2xx create
            with scim_http(served.url, token) as http:
                for i in range(5):
                    response = http.post("/Users", json=user_body(f"before-{i}"))
                    assert response.status_code == 201, response.text
                    acknowledged[f"before-{i}"] = response.json()["id"]

                filler = small / "filler"
                fill(filler)
                refused = None
                for i in range(MAX_WRITES_UNTIL_FULL):
                    response = http.post("/Users", json=user_body(f"full-{i}"))
                    assert response.status_code != 500, response.text
                    if response.status_code == 201:
                        acknowledged[f"full-{i}"] = response.json()["id"]
                        continue
                    refused = response
                    break
                assert refused is not None, f"{MAX_WRITES_UNTIL_FULL} writes fitted on a full disk"
                assert_scim_error(refused, (507,))
                assert "disk" in refused.json()["detail"]
                refused_name = f"full-{i}"
                print(f"the disk was full after {i} more writes")

                # While full: reads answer, writes keep answering 507 (never 500).
                for name, user_id in list(acknowledged.items())[:5]:
                    read = http.get(f"/Users/{user_id}")
                    assert read.status_code == 200, read.text
                    assert read.json()["userName"] == name
                listing = http.get("/Users", params={"count": 5})
                assert listing.status_code == 200, listing.text
                again = http.post("/Users", json=user_body("still-full"))
                assert_scim_error(again, (507,))
                patch = http.patch(
                    f"/Users/{acknowledged['before-0']}",
                    json={
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "displayName", "value": "y" * 150}],
                    },
                )
                assert patch.status_code in (200, 507), patch.text
                assert http.get(f"/Users/{acknowledged['before-0']}").status_code == 200
                ready = http.get(served.url + "/readyz")
                assert ready.status_code == 200, ready.text

                # Space again: the next write succeeds on the same worker.
                filler.unlink()
                after = http.post("/Users", json=user_body("after-space"))
                assert after.status_code == 201, after.text
                acknowledged["after-space"] = after.json()["id"]
                assert worker_pids(served) == workers, "the worker was restarted"

                for name, user_id in acknowledged.items():
                    read = http.get(f"/Users/{user_id}")
                    assert read.status_code == 200, (name, read.text)
                    assert read.json()["userName"] == name
                # A 507 says "not saved": the refused user is not there.
                missing = http.get("/Users", params={"filter": f'userName eq "{refused_name}"'})
                assert missing.status_code == 200 and missing.json()["totalResults"] == 0, missing.text
        # After the server stopped: every acknowledged user is in the file, as committed.
        with sqlite3.connect(database) as check:
            names = {row[0] for row in check.execute("SELECT username FROM auth_user")}
        assert set(acknowledged) <= names


def test_a_full_disk_under_postgresql_refuses_writes_with_507_and_recovers(tmp_path: Path) -> None:
    """PostgreSQL refuses a write whose table cannot grow (``disk_full``, 53100); the server stays
    up. The mount point lives in the system's temporary directory: the server user must reach it."""
    mount_point = Path(tempfile.mkdtemp(prefix="scimgate-full-"))
    mount_point.chmod(0o755)
    try:
        with (
            small_filesystem(mount_point, "160m") as small,
            private_postgres(base=small) as pg,
            gunicorn(pg.url, tmp_path, workers=1) as served,
            scim_http(served.url, set_up_scim(served)) as http,
        ):
            workers = worker_pids(served)
            acknowledged: dict[str, str] = {}
            fill(small / "filler")
            refused = None
            for i in range(MAX_WRITES_UNTIL_FULL):
                response = http.post("/Users", json=user_body(f"pg-full-{i}"))
                assert response.status_code != 500, response.text
                if response.status_code == 201:
                    acknowledged[f"pg-full-{i}"] = response.json()["id"]
                    continue
                refused = response
                break
            assert refused is not None, f"{MAX_WRITES_UNTIL_FULL} writes fitted on a full disk"
            assert_scim_error(refused, (507,))
            for user_id in list(acknowledged.values())[:5]:
                assert http.get(f"/Users/{user_id}").status_code == 200
            assert http.get("/Users", params={"count": 5}).status_code == 200

            (small / "filler").unlink()
            after = http.post("/Users", json=user_body("pg-after-space"))
            assert after.status_code == 201, after.text
            acknowledged["pg-after-space"] = after.json()["id"]
            assert worker_pids(served) == workers
            engine = sa.create_engine(pg.url)
            try:
                with engine.connect() as conn:
                    stored = set(conn.execute(sa.text("SELECT username FROM auth_user")).scalars())
            finally:
                engine.dispose()
            assert set(acknowledged) <= stored
    finally:
        shutil.rmtree(mount_point, ignore_errors=True)
