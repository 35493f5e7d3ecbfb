"""PostgreSQL for the bench: private databases, a PgBouncer in transaction mode, and the meters.

The cluster is the machine's shared one (``postgresql://postgres@127.0.0.1:5432``, trusted on
loopback): each target gets a private database created here and dropped afterwards, and nothing is
changed on the cluster (no ``log_min_duration_statement``, no extension). PgBouncer (Debian's
``pgbouncer``, 1.18) is started on a free loopback port with a config written for the run; the bench
has its own starter because it must not import tests/.

Meters (cumulative counters read before and after each scenario, see ``driver.ServerProbe``):

- ``db_cpu_ms``: CPU of the PostgreSQL backends serving the target's database, found by
  ``pg_stat_activity.datname`` (a monitoring connection to the ``postgres`` database, so the query
  itself is not counted) and read from ``/proc/<pid>`` (schedstat ns; stat ticks as a fallback).
  A backend that exits between two reads takes its CPU since the last read with it.
- ``pgbouncer_cpu_ms``: the PgBouncer process's CPU.
- ``round_trips``: data segments the app's workers sent on their sockets to the database port
  (``ss -tinp``'s ``data_segs_out``): one per request-response exchange of the PostgreSQL protocol
  over loopback (a message batch fits one 64 KiB segment), counted by the kernel, no cost to the app.
- ``statements``, ``checkouts``, ``commits``, ``rollbacks``, ``resets``: what the workers asked of
  SQLAlchemy (bench/scimgate_app.py's counts); a checkout is one liveness ping with
  ``pool_pre_ping``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import driver
import psycopg
import servers
from counters import COUNTER, COUNTS

PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
# Behind PgBouncer in transaction mode a server-side prepared statement may land on another server
# connection: psycopg must not prepare (the same setting scimgate documents for PgBouncer).
NO_PREPARE = {"connect_args": {"prepare_threshold": None}}


def admin_url(database: str = "postgres") -> str:
    """A libpq URL to the shared cluster."""
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def sqlalchemy_url(database: str, host: str = PG_HOST, port: int = PG_PORT) -> str:
    """scimgate's ``SCIMGATE_DATABASE_URL`` for ``database`` at host:port (psycopg 3 driver)."""
    return f"postgresql+psycopg://{PG_USER}@{host}:{port}/{database}"


@contextmanager
def private_database(name: str) -> Iterator[str]:
    """Create database ``name`` (dropping a leftover of an interrupted run), drop it at the end."""
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def analyze(database: str) -> None:
    """``ANALYZE`` the target's database, as autovacuum keeps a running deployment's statistics.

    The bench writes its data and reads it back within seconds, before autovacuum's first pass:
    on never-analyzed tables the planner guesses a few rows each, and once psycopg prepares a
    statement (its sixth run) PostgreSQL may settle on a generic plan built on that guess. Seen:
    a group's 1000-member read as a nested loop over every user profile, 22-25 ms of backend CPU
    instead of 6 (the PgBouncer target, with no prepared statements, kept custom plans). Run
    from a connection of its own that is closed before the next step, so its backend's CPU is
    not counted.
    """
    with psycopg.connect(admin_url(database), autocommit=True) as conn:
        conn.execute("ANALYZE")


# ---------------------------------------------------------------------------------------------
# PgBouncer
# ---------------------------------------------------------------------------------------------


def pgbouncer_ini(workdir: Path, port: int, databases: list[str], pool_size: int) -> Path:
    """A PgBouncer config: loopback only, transaction pooling, trust (the cluster trusts loopback)."""
    users = workdir / "userlist.txt"
    users.write_text(f'"{PG_USER}" ""\n')
    lines = ["[databases]"]
    lines += [f"{db} = host={PG_HOST} port={PG_PORT} dbname={db} user={PG_USER}" for db in databases]
    lines += [
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        f"unix_socket_dir = {workdir}",
        "auth_type = trust",
        f"auth_file = {users}",
        "pool_mode = transaction",
        f"default_pool_size = {pool_size}",
        "max_client_conn = 200",
        "server_reset_query =",
        "ignore_startup_parameters = extra_float_digits,options",
        f"logfile = {workdir / 'pgbouncer.log'}",
        f"pidfile = {workdir / 'pgbouncer.pid'}",
    ]
    ini = workdir / "pgbouncer.ini"
    ini.write_text("\n".join(lines) + "\n")
    return ini


@contextmanager
def pgbouncer(workdir: Path, databases: list[str], pool_size: int = 4) -> Iterator[tuple[int, int]]:
    """Run PgBouncer in transaction mode on a free loopback port; yield (port, pid); stop it.

    As root it runs as ``postgres`` (PgBouncer refuses root), from a folder of its own that user
    can reach (the bench's temporary folder is private to root).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    command = [PGBOUNCER]
    if os.geteuid() == 0:
        workdir = Path(tempfile.mkdtemp(prefix="scimgate-bench-pgbouncer-"))
        os.chmod(workdir, 0o755)
        command += ["-u", "postgres"]
    port = servers.free_port()
    ini = pgbouncer_ini(workdir, port, databases, pool_size)
    if os.geteuid() == 0:
        for path in (workdir, *workdir.iterdir()):
            shutil.chown(path, "postgres")
    command.append(str(ini))
    with open(workdir / "pgbouncer.out", "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with psycopg.connect(
                    f"postgresql://{PG_USER}@127.0.0.1:{port}/{databases[0]}", prepare_threshold=None
                ) as conn:
                    conn.execute("SELECT 1")
                break
            except psycopg.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "pgbouncer did not come up:\n" + (workdir / "pgbouncer.out").read_text()[-2000:]
                    ) from None
                time.sleep(0.2)
        yield port, process.pid
    finally:
        servers.stop(process)
        if os.geteuid() == 0:
            shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Meters
# ---------------------------------------------------------------------------------------------


class BackendCpu:
    """Cumulative CPU (ms) of the PostgreSQL backends connected to one database."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.conn = psycopg.connect(admin_url(), autocommit=True)
        self.last: dict[int, int] = {}
        self.total_ns = 0

    def pids(self) -> list[int]:
        """The backends of the database now."""
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
            (self.database,),
        ).fetchall()
        return [int(row[0]) for row in rows]

    def __call__(self) -> float:
        now = {pid: driver.process_cpu_ns(pid) for pid in self.pids()}
        for pid, value in now.items():
            self.total_ns += max(0, value - self.last.get(pid, 0))
        self.last = now
        return self.total_ns / 1e6

    def close(self) -> None:
        """Close the monitoring connection."""
        self.conn.close()


def process_cpu_ms(pid: int) -> Callable[[], float]:
    """A meter of one process's CPU in ms (PgBouncer)."""
    return lambda: driver.process_cpu_ns(pid) / 1e6


_SS_PID = re.compile(r"pid=(\d+)")
_SS_SEGS = re.compile(r"data_segs_out:(\d+)")


class RoundTrips:
    """Data segments the workers of a gunicorn master sent to ``port`` (cumulative).

    A socket closed between two reads takes its count with it; the app's pool keeps its
    connections open, so that only happens when a connection is replaced.
    """

    def __init__(self, probe: driver.ServerProbe, port: int) -> None:
        self.probe = probe
        self.port = port
        self.last: dict[str, int] = {}
        self.total = 0

    def __call__(self) -> float:
        workers = set(self.probe.workers())
        out = subprocess.run(
            ["ss", "-tinpH", "state", "established", f"( dport = :{self.port} )"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        now: dict[str, int] = {}
        key = None
        for line in out.splitlines():
            if not line.startswith(("\t", " ")):
                pids = {int(p) for p in _SS_PID.findall(line)}
                fields = line.split()
                key = fields[2] if pids & workers and len(fields) > 2 else None  # local address:port
                segs = _SS_SEGS.search(line)
            else:
                segs = _SS_SEGS.search(line)
            if key and segs:
                now[key] = int(segs.group(1))
                key = None
        for sock, value in now.items():
            self.total += max(0, value - self.last.get(sock, 0))
        self.last = now
        return float(self.total)


def count_meters(folder: Path) -> dict[str, Callable[[], float]]:
    """One meter per count of bench/scimgate_app.py (statements, checkouts, ...), summed over the
    workers that wrote into ``folder``."""

    def reader(slot: int) -> Callable[[], float]:
        def read() -> float:
            total = 0
            for path in folder.iterdir():
                data = path.read_bytes()
                if len(data) == COUNTER.size:
                    total += COUNTER.unpack(data)[slot]
            return float(total)

        return read

    return {name: reader(slot) for slot, name in enumerate(COUNTS)}
