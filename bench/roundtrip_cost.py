"""What one statement costs the CLIENT process in CPU: SQLite in-process vs a PostgreSQL round trip.

Evidence for issue 19's "app CPU on PostgreSQL <= 1.25x SQLite": a request on PostgreSQL pays, in
the app's own process, the driver's work and the system calls of every round trip (send, wait,
wake up, receive), where SQLite answers inside the process. This measures the floor of that cost
with the same primary-key lookup: sqlite3, bare libpq through psycopg (``pgconn.exec_params``),
and psycopg's cursor API as scimgate uses it (``cursor.execute`` + ``fetchall``), over TCP on
loopback and over the Unix socket. Multiply by a request's round trips (bench/run's table) to
see how much of the gap is the protocol itself.

    bench/.venv/bin/python bench/roundtrip_cost.py [--count 5000]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pgtargets


def cpu_us(run: Callable[[int], object], count: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per call of ``run``, after a warm-up."""
    for i in range(200):
        run(i)
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(count):
        run(i)
    return (time.process_time() - cpu) * 1e6 / count, (time.perf_counter() - wall) * 1e6 / count


def main() -> int:
    """Print CPU and wall µs per statement for each way of asking."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    lite = sqlite3.connect(":memory:")
    lite.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    lite.execute("INSERT INTO t VALUES (1, 1)")
    lookup = "SELECT v FROM t WHERE id = ?"
    rows: list[tuple[str, Callable[[int], object]]] = [
        ("sqlite3 execute + fetchall", lambda i: lite.execute(lookup, (1,)).fetchall())
    ]
    with pgtargets.private_database("wt_pgbench_roundtrip") as database:
        tcp = psycopg.connect(pgtargets.admin_url(database), autocommit=True)
        unix = psycopg.connect(f"dbname={database} user={pgtargets.PG_USER}", autocommit=True)
        try:
            tcp.execute("CREATE TABLE t (id integer PRIMARY KEY, v integer)")
            tcp.execute("INSERT INTO t VALUES (1, 1)")
            for label, conn in (("TCP loopback", tcp), ("Unix socket", unix)):
                pgconn = conn.pgconn
                rows.append(
                    (
                        f"libpq exec_params, {label}",
                        lambda i, pgconn=pgconn: pgconn.exec_params(b"SELECT v FROM t WHERE id = $1", [b"1"]),
                    )
                )
                rows.append(
                    (
                        f"psycopg cursor.execute + fetchall, {label}",
                        lambda i, conn=conn: conn.execute("SELECT v FROM t WHERE id = %s", (1,)).fetchall(),
                    )
                )
            print("| statement (one primary-key lookup) | client CPU µs | wall µs |\n|---|---|---|")
            for label, run in rows:
                cpu, wall = cpu_us(run, args.count)
                print(f"| {label} | {cpu:.1f} | {wall:.1f} |")
        finally:
            tcp.close()
            unix.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
