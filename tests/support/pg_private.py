"""A private PostgreSQL server for tests that stop, kill or restart their database.

The shared cluster at 127.0.0.1:5432 must never be stopped, so a test that needs a database to
go away runs its own: ``initdb`` into a fresh temporary directory, ``pg_ctl start`` on a spare
loopback port with its socket in that directory, and an immediate stop plus removal at the end.

    with private_postgres() as pg:
        url = pg.url                  # postgresql+psycopg://postgres@127.0.0.1:<port>/postgres
        other = pg.new_database()     # the URL of another, empty database on the same server
        pg.stop()                     # pg_ctl stop -m immediate: a crash, as far as clients see
        pg.kill()                     # SIGKILL of the postmaster (its children exit on their own)
        pg.start()                    # crash recovery, then ready (waits for it)

It is a support module (not a test): other tests reuse it, e.g. to put a connection pooler in
front of a server they can restart. Binaries come from ``pg_config --bindir``, else the newest
``/usr/lib/postgresql/*/bin``, else ``PATH``. ``initdb`` and the server refuse to run as root, so
under root every server command runs as the ``postgres`` system user (``runuser``), and the
directory is handed to that user. A missing PostgreSQL raises: tests that use this helper fail
loudly rather than skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SHARED_CLUSTER_PORT = 5432
SERVER_USER = "postgres"  # the system user server commands run as when the tests run as root
START_TIMEOUT_SECONDS = 60


def bin_dir() -> Path:
    """Where ``initdb``, ``pg_ctl`` and ``postgres`` live."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(Path(found.stdout.strip()))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql")


def spare_port() -> int:
    """A loopback port nothing listens on now (never the shared cluster's)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != SHARED_CLUSTER_PORT:
            return port


class PrivatePostgres:
    """One throwaway PostgreSQL cluster: its directory, port and server process."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.log = root / "server.log"
        self.bin = bin_dir()
        self.as_user = SERVER_USER if os.geteuid() == 0 else None
        self._databases: list[str] = []

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` database as the ``postgres`` superuser (trust auth)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """Create an empty database of its own on this server; return its SQLAlchemy URL."""
        name = f"db_{len(self._databases) + 1}"
        self._databases.append(name)
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({result.returncode}): {result.stderr or result.stdout}"
            )
        return result

    def init(self) -> None:
        """Create the cluster (trust authentication, no fsync of the initial files)."""
        if self.as_user:
            account = pwd.getpwnam(self.as_user)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start the server and wait until it accepts connections (after any crash recovery).

        Retried while a killed postmaster's children still hold the old shared memory.
        """
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c max_connections=100"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            result = self._run(
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "30",
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                check=False,
            )
            if result.returncode == 0 and self.is_ready():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"private PostgreSQL did not start: {result.stderr}\n{self.server_log()}")
            time.sleep(0.3)

    def stop(self, mode: str = "immediate") -> None:
        """``pg_ctl stop -m <mode>``; immediate is a crash for clients (recovery on next start)."""
        self._run("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", mode, check=False)

    def postmaster_pid(self) -> int | None:
        """The running postmaster's process id, from ``postmaster.pid``."""
        try:
            first = (self.data / "postmaster.pid").read_text().split("\n", 1)[0]
        except FileNotFoundError:
            return None
        return int(first) if first.strip().isdigit() else None

    def kill(self) -> None:
        """SIGKILL the postmaster, as an out-of-memory killer would, and wait until it is gone."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def is_ready(self) -> bool:
        """True when the server accepts connections on its port."""
        result = self._run(
            "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port), check=False, timeout=10
        )
        return result.returncode == 0

    def server_log(self) -> str:
        """The server's log so far (for assertion messages)."""
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (our own child, not yet reaped) is as good as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][:1] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@contextmanager
def private_postgres(base: Path | None = None) -> Iterator[PrivatePostgres]:
    """A started private cluster, stopped (immediate) and deleted on exit.

    Its directory is made in ``base`` (default: the system's temporary directory), e.g. a small
    filesystem the test fills; under root, ``base`` and its parents must be searchable by the
    server user (pytest's own ``tmp_path`` is not).
    """
    root = Path(tempfile.mkdtemp(prefix="scimgate-pg-", dir=base))
    server = PrivatePostgres(root, spare_port())
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop()
        server.kill()  # in case stop could not reach it
        shutil.rmtree(root, ignore_errors=True)
