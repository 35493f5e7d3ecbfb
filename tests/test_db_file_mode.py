"""The SQLite database holds password hashes and the token pepper: scimgate creates it, and SQLite
its -wal and -shm beside it, readable by the owner only (0600), whatever the umask, through the app
and through ``scimgate init-db`` (the migrations). SQLite pass of ``scripts/test`` only."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scimgate import create_app
from scimgate.extensions import db
from scimgate.scim import urns
from tests.support.db_faults import mode_of
from tests.support.gunicorn_server import BIN, server_env
from tests.support.scim import configure_scim

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SCIMGATE_TEST_DATABASE_URL")),
    reason="runs in the SQLite pass only: it makes SQLite files of its own",
)


@contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o000])
def test_the_app_creates_the_database_and_its_wal_and_shm_owner_only(tmp_path: Path, mask: int) -> None:
    database = tmp_path / "site" / "scimgate.db"
    with umask(mask):
        app = create_app(
            "testing",
            overrides={"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "LOG_DIR": str(tmp_path)},
        )
        with app.app_context():
            db.create_all()
        headers = configure_scim(app)
        created = app.test_client().post(
            "/scim/v2/Users",
            json={"schemas": [urns.USER], "userName": "mode-check"},
            headers=headers | {"Content-Type": "application/scim+json"},
        )
        assert created.status_code == 201, created.get_data(as_text=True)
        # This thread keeps its connection, so the -wal and -shm are still there.
        files = {path.name: mode_of(path) for path in database.parent.iterdir()}
    try:
        assert files == {"scimgate.db": 0o600, "scimgate.db-wal": 0o600, "scimgate.db-shm": 0o600}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_init_db_creates_the_database_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "new" / "scimgate.db"
    env = server_env(f"sqlite:///{database}", tmp_path)
    result = subprocess.run(
        [str(BIN / "scimgate"), "init-db"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert result.returncode == 0, result.stderr
    assert mode_of(database) == 0o600
    assert os.path.getsize(database) > 0  # the migrations ran on the file created owner-only
