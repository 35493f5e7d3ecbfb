"""``scimgate --help`` and the read-only commands create no file in the current directory.

The default configuration keeps the secret key and the logs under ``site/`` (relative to the
working directory): an admin who runs ``scimgate --help`` or ``scimgate scim status`` from their
home directory must not find a ``site/`` tree there. Commands that write still work, and the
command's app makes its key and logs once it serves. The database is SQLite, or a schema of its
own on the PostgreSQL that ``SCIMGATE_TEST_DATABASE_URL`` names.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.support.config import sibling_app

HELP = [
    ["--help"],
    ["scim", "--help"],
    ["saml", "--help"],
    ["admin", "--help"],
    ["audit", "--help"],
    ["dev", "--help"],
    ["scim", "status", "--help"],
]
READ_ONLY = [
    ["scim", "status"],
    ["saml", "status"],
    ["conf"],
    ["conf", "scim.client"],
    ["plugins"],
    ["plugins", "--json"],
    ["audit"],
    ["routes"],
]


def _scimgate(cwd: Path, database: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real console script with the default configuration, its database outside ``cwd``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMGATE_")}
    env["SCIMGATE_DATABASE_URL"] = database
    script = Path(sys.executable).parent / "scimgate"
    return subprocess.run(
        [str(script), *args], input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database: SQLite in a directory of its own, or a fresh PostgreSQL schema."""
    where = tmp_path_factory.mktemp("database")
    postgres = os.environ.get("SCIMGATE_TEST_DATABASE_URL", "")
    schema = f"cli_files_{os.getpid()}_{secrets.token_hex(3)}"
    if postgres.startswith("postgresql"):
        admin = sa.create_engine(postgres)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{postgres}?options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{where / 'scimgate.db'}"
    init = _scimgate(where, url, "init-db")
    assert init.returncode == 0, init.stderr
    yield url
    if postgres.startswith("postgresql"):
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _everything_in(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


@pytest.mark.parametrize("args", HELP + READ_ONLY, ids=lambda a: " ".join(a))
def test_help_and_read_only_commands_create_no_file(tmp_path: Path, database: str, args: list[str]) -> None:
    result = _scimgate(tmp_path, database, *args)
    assert result.returncode == 0, result.stderr
    assert _everything_in(tmp_path) == []


def test_commands_that_write_still_work_and_write_their_logs(tmp_path: Path, database: str) -> None:
    created = _scimgate(
        tmp_path, database, "admin", "create", "root", "--password-stdin", stdin="abcdefghijklmnopq!\n"
    )
    assert created.returncode == 0, created.stderr
    client = _scimgate(tmp_path, database, "scim", "set-client", "pingfederate")
    assert client.returncode == 0, client.stderr
    assert "config.client_set client=pingfederate" in (tmp_path / "site/logs/scim-debug.log").read_text()
    status = _scimgate(tmp_path, database, "scim", "status")
    assert "client:          pingfederate" in status.stdout


def test_help_with_the_whole_default_configuration_creates_nothing(tmp_path: Path) -> None:
    """Even the default SQLite file's directory (``site/``) is left to ``scimgate init-db``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMGATE_")}
    script = Path(sys.executable).parent / "scimgate"
    result = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert _everything_in(tmp_path) == []
    init = subprocess.run(
        [str(script), "init-db"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "site" / "scimgate.db").is_file()


def test_the_commands_app_makes_its_key_and_logs_when_it_serves(app: Flask, tmp_path: Path) -> None:
    """`scimgate run` serves the command's app: the key file and a log appear with the first request."""
    key_file = tmp_path / "site" / "secret_key"
    served = sibling_app(
        app, tmp_path / "logs", SECRET_KEY="", SECRET_KEY_FILE=str(key_file), CREATE_FILES_AT_START=False
    )
    assert not key_file.exists() and not (tmp_path / "logs").exists()
    client = served.test_client()
    assert client.get("/scim/v2/Users").status_code == 401
    assert key_file.read_text() == served.config["SECRET_KEY"] and len(served.config["SECRET_KEY"]) == 64
    assert "status=401" in (tmp_path / "logs" / "scim-info.log").read_text()
    assert client.get("/login").status_code == 200  # a page with a signed session works
