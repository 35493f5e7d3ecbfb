"""Run scimgate the production way (gunicorn, several workers) on its own fresh database."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from tests.support.processes import stop, wait_until_answers

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def fresh_database(kind_url: str, tmp_path: Path) -> Iterator[str]:
    """A new empty database of the same kind as ``kind_url`` (a SQLite file or a PostgreSQL schema)."""
    if not kind_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'served.db'}"
        return
    schema = f"g_{os.getpid()}_{secrets.token_hex(3)}"
    engine = sa.create_engine(kind_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in kind_url else "?"
    try:
        yield f"{kind_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@dataclass
class Served:
    """A running gunicorn and how to reach it."""

    url: str
    process: subprocess.Popen
    env: dict[str, str]

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """Run a ``scimgate`` command against the same database."""
        return subprocess.run(
            [str(BIN / "scimgate"), *args],
            env=self.env,
            cwd=self.env["SCIMGATE_TEST_CWD"],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )


def server_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMGATE_")}
    env.update(
        {
            "SCIMGATE_CONFIG": "production",
            "SCIMGATE_DATABASE_URL": database_url,
            "SCIMGATE_LOG_DIR": str(tmp_path / "logs"),
            "SCIMGATE_SECRET_KEY": secrets.token_hex(16),
            "SCIMGATE_TEST_CWD": str(tmp_path),
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


@contextmanager
def gunicorn(
    database_url: str,
    tmp_path: Path,
    workers: int = 4,
    migrate: bool = True,
    settings: dict[str, str] | None = None,
) -> Iterator[Served]:
    """Migrate the database with ``scimgate init-db`` (unless ``migrate`` is false: e.g. a
    database that is down on purpose), then serve it with gunicorn; ``settings`` are more
    environment variables (``SCIMGATE_*``) for the server and its commands."""
    env = {**server_env(database_url, tmp_path), **(settings or {})}
    if migrate:
        init = subprocess.run(
            [str(BIN / "scimgate"), "init-db"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert init.returncode == 0, init.stderr
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            str(ROOT / "config" / "gunicorn.conf.py"),
            "--chdir",
            str(ROOT),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "wsgi:app",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "gunicorn.err", "w"),  # noqa: SIM115 - closed with the process
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{url}/healthz", process, tmp_path / "gunicorn.err")
        yield Served(url, process, env)
    finally:
        stop(process)
