"""Start each benchmark target under the same gunicorn settings, and always stop it.

Every target runs as ``gunicorn -c config/gunicorn.conf.py -w WORKERS -k sync -b 127.0.0.1:PORT
--access-logfile /dev/null APP``: scimgate's production config file, the same worker count and
class for all three, bound to loopback, access log off (its cost would be the same for each).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
# The scimgate checkout under test: this repository unless bench.py --source names another one
# (e.g. a `git archive` of a commit). It comes first on PYTHONPATH, ahead of the editable install.
SOURCE = ROOT


def set_source(path: Path) -> None:
    """Benchmark the scimgate checkout at ``path`` instead of this repository's working tree."""
    global SOURCE
    SOURCE = path.resolve()


def gunicorn_conf() -> Path:
    """scimgate's production gunicorn settings, used for every target."""
    return SOURCE / "config" / "gunicorn.conf.py"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """A started target: where to send requests and which process to measure."""

    name: str
    base_url: str
    headers: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    info: dict[str, object] = field(default_factory=dict)

    @property
    def master_pid(self) -> int:
        """The gunicorn master's pid; its children are the measured workers."""
        return self.process.pid


def gunicorn_command(chdir: Path, app: str, port: int, workers: int) -> list[str]:
    """The one gunicorn command line every target shares."""
    return [
        str(BIN / "gunicorn"),
        "-c",
        str(gunicorn_conf()),
        "--chdir",
        str(chdir),
        "-w",
        str(workers),
        "-k",
        "sync",
        "-b",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "/dev/null",
        app,
    ]


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up; log tail:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a gunicorn master (graceful, then forced) and wait for it."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def gunicorn(
    name: str, chdir: Path, app: str, env: dict[str, str], workdir: Path, workers: int, ready_path: str
) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """Run one gunicorn until the block ends (also on error or Ctrl-C)."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}-gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            gunicorn_command(chdir, app, port, workers),
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(f"http://127.0.0.1:{port}{ready_path}", process, log)
        yield process, port, log
    finally:
        stop(process)


def _clean_env() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("SCIMGATE_", "GUNICORN_", "PEER_", "FLOOR_"))
    }


# ---------------------------------------------------------------------------------------------
# scimgate
# ---------------------------------------------------------------------------------------------


def scimgate_env(workdir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment tests/support/gunicorn_server.py gives scimgate: production config, and a
    fresh SQLite file unless ``database_url`` names another database."""
    env = _clean_env()
    env.update(
        {
            "SCIMGATE_CONFIG": "production",
            "SCIMGATE_DATABASE_URL": database_url or f"sqlite:///{workdir / 'scimgate.db'}",
            "SCIMGATE_LOG_DIR": str(workdir / "logs"),
            "SCIMGATE_SECRET_KEY": secrets.token_hex(16),
            "PYTHONPATH": str(SOURCE),
        }
    )
    return env


def scimgate_cli(env: dict[str, str], workdir: Path, *args: str) -> str:
    """Run one ``scimgate`` command against the target's database; fail loudly."""
    result = subprocess.run(
        [str(BIN / "scimgate"), *args], env=env, cwd=workdir, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(f"scimgate {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def prepare_scimgate(workdir: Path, database_url: str | None = None) -> tuple[dict[str, str], str]:
    """A fresh database configured through the CLI exactly as tests/support/gunicorn_server.py does
    (SQLite in ``workdir`` unless ``database_url`` names an empty PostgreSQL database)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = scimgate_env(workdir, database_url)
    scimgate_cli(env, workdir, "init-db")
    metadata = SOURCE / "tests" / "data" / "idp-metadata.xml"
    scimgate_cli(env, workdir, "saml", "configure", "--idp-metadata", str(metadata))
    scimgate_cli(env, workdir, "saml", "enable")
    scimgate_cli(env, workdir, "scim", "set-client", "okta")
    token = scimgate_cli(env, workdir, "scim", "generate-token", "--months", "1").strip().splitlines()[-1]
    scimgate_cli(env, workdir, "scim", "enable")
    return env, token


@contextmanager
def serve_scimgate(
    workdir: Path,
    workers: int,
    env: dict[str, str],
    token: str,
    name: str = "scimgate",
    database_url: str | None = None,
    engine_options: dict[str, Any] | None = None,
) -> Iterator[Running]:
    """scimgate as production serves it (``gunicorn -c config/gunicorn.conf.py``), as
    bench/scimgate_app.py wraps ``wsgi:app``: engine options from the bench, statements counted
    into ``<workdir>/sqlcount`` (``Running.info["sqlcount"]``). ``database_url`` replaces the one the
    database was prepared with (e.g. PgBouncer's address for a database prepared directly).
    """
    env = dict(env)
    counts = workdir / "sqlcount"
    counts.mkdir(parents=True, exist_ok=True)
    env["PYTHONPATH"] = f"{SOURCE}{os.pathsep}{BENCH}"
    env["BENCH_SQLCOUNT_DIR"] = str(counts)
    env["BENCH_ENGINE_OPTIONS"] = json.dumps(engine_options or {})
    if database_url:
        env["SCIMGATE_DATABASE_URL"] = database_url
    app = "scimgate_app:app"
    with gunicorn(name, SOURCE, app, env, workdir, workers, "/healthz") as (process, port, log):
        yield Running(
            name,
            f"http://127.0.0.1:{port}/scim/v2",
            {"Authorization": f"Bearer {token}"},
            process,
            log,
            {"sqlcount": counts},
        )


# ---------------------------------------------------------------------------------------------
# peer and floor
# ---------------------------------------------------------------------------------------------


@contextmanager
def serve_peer(workdir: Path, workers: int) -> Iterator[Running]:
    """scim2-server's WSGI application with an in-memory storage (see bench/peer_app.py)."""
    token = secrets.token_urlsafe(24)
    env = _clean_env()
    env["PEER_TOKEN"] = token
    with gunicorn(
        "peer", BENCH, "peer_app:create_app()", env, workdir, workers, "/v2/ServiceProviderConfig"
    ) as (
        process,
        port,
        log,
    ):
        yield Running(
            "peer", f"http://127.0.0.1:{port}/v2", {"Authorization": f"Bearer {token}"}, process, log
        )


@contextmanager
def serve_floor(workdir: Path, workers: int, users: int) -> Iterator[Running]:
    """The bare Flask + SQLAlchemy lookup (bench/floor_app.py) on a SQLite file of ``users`` rows."""
    sys.path.insert(0, str(BENCH))
    from floor_app import seed

    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'floor.db'}"
    ids = seed(url, users)
    token = secrets.token_urlsafe(24)
    env = _clean_env()
    env.update({"FLOOR_DATABASE_URL": url, "FLOOR_TOKEN": token})
    with gunicorn("floor", BENCH, "floor_app:create_app()", env, workdir, workers, "/healthz") as (
        process,
        port,
        log,
    ):
        yield Running(
            "floor",
            f"http://127.0.0.1:{port}",
            {"Authorization": f"Bearer {token}"},
            process,
            log,
            {"ids": ids},
        )
