"""A PgBouncer in transaction pooling mode, for tests that run scimgate behind one.

    with pgbouncer(backend_url) as bouncer:
        url = bouncer.url        # postgresql+psycopg://postgres@127.0.0.1:<port>/<the backend's db>
        bouncer.restart()        # SIGTERM (immediate shutdown: clients see their link cut), start again

Debian's ``pgbouncer`` (scripts/setup installs it) runs in the foreground from a temporary
directory holding its configuration, its auth file, its log, its pid file and its unix socket,
on a spare loopback port; it is stopped and the directory removed at the end. Transaction mode is
what production poolers run: each transaction may get another server connection, so nothing
may outlive a transaction on the server (a session ``SET``, a server-side prepared statement).
PgBouncer refuses to run as root: under root it is started with ``-u postgres`` and the directory
is handed to that user. The backend is reached over TCP as ``postgres`` with the cluster's trust
authentication; clients are trusted too (``auth_type = trust``, the user listed in the auth file).
A missing ``pgbouncer`` raises: tests that use this helper fail loudly rather than skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from tests.support import processes
from tests.support.pg_private import spare_port

# The shared PostgreSQL cluster these tests put their own databases on (never stopped).
SHARED_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RUN_AS = "postgres"  # the system user pgbouncer switches to when the tests run as root
START_TIMEOUT_SECONDS = 20
POOL_SIZE = 20  # server connections per database/user pair: enough for a 4-worker gunicorn


def binary() -> str:
    """Path of the ``pgbouncer`` executable (Debian installs it in /usr/sbin)."""
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
    )
    if found is None:
        raise RuntimeError("pgbouncer not found; run scripts/setup (it installs Debian's pgbouncer)")
    return found


class PgBouncer:
    """One PgBouncer process in front of one PostgreSQL database."""

    def __init__(self, root: Path, backend_url: str) -> None:
        backend = sa.engine.make_url(backend_url)
        self.root = root
        self.port = spare_port()
        self.database = backend.database or "postgres"
        self.backend = backend
        self.log = root / "pgbouncer.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the backend's database through this PgBouncer."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    def write_config(self) -> Path:
        """Write the configuration and the auth file; return the configuration's path."""
        backend = (
            f"host={self.backend.host or '127.0.0.1'} port={self.backend.port or 5432} "
            f"dbname={self.database} user={self.backend.username or 'postgres'}"
        )
        config = self.root / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"{self.database} = {backend}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            f"unix_socket_dir = {self.root}\n"
            "auth_type = trust\n"
            f"auth_file = {self.root / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {POOL_SIZE}\n"
            "max_client_conn = 500\n"
            f"logfile = {self.log}\n"
            f"pidfile = {self.root / 'pgbouncer.pid'}\n"
            "admin_users = postgres\n"
        )
        (self.root / "userlist.txt").write_text('"postgres" ""\n')
        return config

    def start(self) -> None:
        """Start PgBouncer and wait until a client gets through it to the database."""
        command = [binary(), str(self.write_config())]
        if os.geteuid() == 0:
            account = pwd.getpwnam(RUN_AS)
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, account.pw_uid, account.pw_gid)
            command = [binary(), "-u", RUN_AS, str(self.root / "pgbouncer.ini")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self.accepts():
            if self.process.poll() is not None or time.monotonic() > deadline:
                stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                self.stop()
                raise RuntimeError(f"pgbouncer did not start: {stderr}\n{self.server_log()}")
            time.sleep(0.05)

    def accepts(self) -> bool:
        """True when PgBouncer listens on its port."""
        with socket.socket() as sock:
            sock.settimeout(1)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        """SIGTERM: PgBouncer's immediate shutdown (every client and server link is closed)."""
        process, self.process = self.process, None
        if process is None:
            return
        processes.stop(process, timeout=10)
        if process.stderr:
            process.stderr.close()

    def restart(self) -> None:
        """Stop and start again on the same port, as an operator's restart does."""
        self.stop()
        self.start()

    def server_log(self) -> str:
        """PgBouncer's log so far (for assertion messages)."""
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""


@contextmanager
def pgbouncer(backend_url: str) -> Iterator[PgBouncer]:
    """A started PgBouncer in front of ``backend_url``'s database, stopped and deleted on exit."""
    root = Path(tempfile.mkdtemp(prefix="scimgate-pgbouncer-"))
    bouncer = PgBouncer(root, backend_url)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def private_database(server_url: str, prefix: str = "pgb") -> Iterator[str]:
    """A new empty database on ``server_url``'s cluster (its URL), dropped on exit.

    PgBouncer 1.18 does not pass the ``options`` startup parameter the other PostgreSQL tests
    use to give each run a schema of its own, so runs through it get a database of their own.
    """
    name = f"{prefix}_{os.getpid()}_{os.urandom(3).hex()}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
