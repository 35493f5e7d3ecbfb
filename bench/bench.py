"""Benchmark orchestrator: scimgate (SQLite, PostgreSQL, PostgreSQL through PgBouncer) vs the peer
scim2-server vs a bare Flask+SQLAlchemy floor.

Run through ``bench/run`` (which prepares bench/.venv). The targets are started side by side under
the same gunicorn settings (see bench/servers.py), warmed up, driven by bench/driver.py in turns,
stopped. It prints the tables with issue 8's and issue 19's targets, and writes
``bench/results/<timestamp>.json`` (and the same tables as ``.md``). The PostgreSQL targets and
their meters (backends' CPU, statements, round trips) are in bench/pgtargets.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import driver
import pgtargets
import servers
from driver import ScenarioResult

RESULTS = servers.BENCH / "results"
MB = 1_000_000


# ---------------------------------------------------------------------------------------------
# Targets of issue 8
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatioTarget:
    """scimgate's CPU per op on ``scenario`` at most ``limit`` times ``against``'s."""

    scenario: str
    against: str
    limit: float


RATIO_TARGETS = [
    RatioTarget("users.get", "floor", 1.3),
    RatioTarget("users.create", "peer", 1.0),
    RatioTarget("users.patch_active", "peer", 1.0),
    RatioTarget("users.filter_userName", "peer", 1.0),
]
# Absolute CPU ms/op ceilings the issue states "whatever the size"; they apply in normal mode too.
ABSOLUTE_TARGETS = {"groups.add_100_members": 20.0, "users.page_100": 10.0}
FLAT_LIMIT = 1.5  # "within 1.5x of the same on a 100-member group"
SAME_LIMIT = 1.25  # "the last page costs the same as the first": read as within 25 %


def verdict(ok: bool | None) -> str:
    """PASS / MISS, or n/a when a side was not measured."""
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for a table cell."""
    return "-" if value is None else f"{value:.{digits}f}"


def cpu(results: list[ScenarioResult], name: str) -> float | None:
    """CPU ms/op of a scenario, None when absent or when any operation failed."""
    for r in results:
        if r.name == name:
            return None if r.errors or r.cpu_ms_per_op is None else r.cpu_ms_per_op
    return None


def by_name(results: list[ScenarioResult]) -> dict[str, ScenarioResult]:
    """Index results by scenario name."""
    return {r.name: r for r in results}


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown pipe table, aligned for the terminal too."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    return "\n".join([line, rule, *body])


def results_table(results: list[ScenarioResult]) -> str:
    """Per-scenario figures of one target."""
    rows = []
    for r in results:
        note = f"{r.errors} errors: {r.first_error[:80]}" if r.errors and r.first_error else ""
        rows.append(
            [
                r.name,
                str(r.ops),
                fmt(r.ops_per_s, 1),
                fmt(r.p50_ms),
                fmt(r.p95_ms),
                fmt(r.p99_ms),
                fmt(r.cpu_ms_per_op, 3),
                fmt(r.extra.get("loadavg_1m"), 1),
                note,
            ]
        )
    headers = ["scenario", "ops", "ops/s", "p50 ms", "p95 ms", "p99 ms", "server CPU ms/op", "load", "note"]
    return table(headers, rows)


def comparison(normal: dict[str, list[ScenarioResult]]) -> tuple[str, list[dict[str, Any]]]:
    """Ratios scimgate/peer and scimgate/floor per scenario, with issue 8's targets."""
    mine = normal.get("scimgate", [])
    peer = normal.get("peer", [])
    floor = normal.get("floor", [])
    peer_names = {r.name for r in peer}
    rows, data = [], []
    for r in mine:
        s, p, f = cpu(mine, r.name), cpu(peer, r.name), cpu(floor, r.name)
        sp = s / p if s is not None and p else None
        sf = s / f if s is not None and f else None
        target, ok = "", None
        for t in RATIO_TARGETS:
            if t.scenario == r.name:
                ratio = sp if t.against == "peer" else sf
                target = f"<= {t.limit}x {t.against}"
                ok = None if ratio is None else ratio <= t.limit
        if r.name in ABSOLUTE_TARGETS:
            target = f"< {ABSOLUTE_TARGETS[r.name]:g} ms"
            ok = None if s is None else s < ABSOLUTE_TARGETS[r.name]
        peer_note = ""
        if r.name in peer_names and p is None:
            peer_note = "peer: errors"
        elif peer and r.name not in peer_names:
            peer_note = "peer: not run"
        rows.append(
            [
                r.name,
                fmt(s, 3),
                fmt(p, 3),
                fmt(f, 3),
                fmt(sp),
                fmt(sf),
                target,
                verdict(ok) if target else "",
                peer_note,
            ]
        )
        data.append(
            {
                "scenario": r.name,
                "scimgate_cpu_ms": s,
                "peer_cpu_ms": p,
                "floor_cpu_ms": f,
                "scimgate_over_peer": sp,
                "scimgate_over_floor": sf,
                "target": target,
                "verdict": verdict(ok) if target else None,
            }
        )
    headers = [
        "scenario",
        "scimgate ms",
        "peer ms",
        "floor ms",
        "scimgate/peer",
        "scimgate/floor",
        "target",
        "result",
        "note",
    ]
    return table(headers, rows), data


PG_SCENARIOS = ("users.create", "users.get", "users.filter_userName", "users.patch_active")
PG_APP_LIMIT = 1.25  # app CPU on PostgreSQL at most 1.25x its CPU on SQLite
PG_TOTAL_LIMIT = 1.6  # app + database at most 1.6x
BOUNCER_LIMIT = 1.1  # behind PgBouncer at most 1.1x direct
ROUND_TRIP_LIMIT = 3.0  # a GET by id or a filter, token check included


def extra(results: list[ScenarioResult], scenario: str, key: str) -> float | None:
    """A per-op meter figure (``<meter>_per_op``) of a scenario, None when absent or failed."""
    found = by_name(results).get(scenario)
    if found is None or found.errors:
        return None
    value = found.extra.get(f"{key}_per_op")
    return None if value is None else float(value)


def pg_comparison(normal: dict[str, list[ScenarioResult]]) -> tuple[str, str, list[dict[str, Any]]]:
    """Issue 19's PostgreSQL tables: CPU per op per database with the ratio targets, and the
    statements and round trips per request."""
    lite = normal.get("scimgate", [])
    pg = normal.get("scimgate-pg", [])
    pgb = normal.get("scimgate-pgbouncer", [])
    names = [r.name for r in (pg or pgb)]
    rows, counts, data = [], [], []
    for name in names:
        app_l, app_p, app_b = cpu(lite, name), cpu(pg, name), cpu(pgb, name)
        db_p, db_b = extra(pg, name, "db_cpu_ms"), extra(pgb, name, "db_cpu_ms")
        bouncer = extra(pgb, name, "pgbouncer_cpu_ms")
        total_p = app_p + db_p if app_p is not None and db_p is not None else None
        total_b = app_b + db_b + (bouncer or 0.0) if app_b is not None and db_b is not None else None
        app_ratio = app_p / app_l if app_p is not None and app_l else None
        total_ratio = total_p / app_l if total_p is not None and app_l else None
        bouncer_ratio = total_b / total_p if total_b is not None and total_p else None
        targeted = name in PG_SCENARIOS
        app_ok = None if app_ratio is None else app_ratio <= PG_APP_LIMIT
        total_ok = None if total_ratio is None else total_ratio <= PG_TOTAL_LIMIT
        bouncer_ok = None if bouncer_ratio is None else bouncer_ratio <= BOUNCER_LIMIT
        rows.append(
            [
                name,
                fmt(app_l, 3),
                fmt(app_p, 3),
                fmt(db_p, 3),
                fmt(app_b, 3),
                fmt(db_b, 3),
                fmt(bouncer, 3),
                fmt(app_ratio) + (f" {verdict(app_ok)}" if targeted else ""),
                fmt(total_ratio) + (f" {verdict(total_ok)}" if targeted else ""),
                fmt(bouncer_ratio) + f" {verdict(bouncer_ok)}",
            ]
        )
        trips_p, trips_b = extra(pg, name, "round_trips"), extra(pgb, name, "round_trips")
        trips_ok = None
        if name in ("users.get", "users.filter_userName"):
            trips_ok = None if trips_p is None else trips_p <= ROUND_TRIP_LIMIT
        counts.append(
            [
                name,
                fmt(extra(lite, name, "statements"), 1),
                fmt(extra(pg, name, "statements"), 1),
                fmt(extra(pg, name, "checkouts"), 1),
                "/".join(fmt(extra(pg, name, k), 1) for k in ("commits", "rollbacks", "resets")),
                fmt(trips_p, 1),
                fmt(extra(pgb, name, "statements"), 1),
                fmt(trips_b, 1),
                f"<= {ROUND_TRIP_LIMIT:g} {verdict(trips_ok)}"
                if name in ("users.get", "users.filter_userName")
                else "",
            ]
        )
        data.append(
            {
                "scenario": name,
                "app_cpu_ms": {"sqlite": app_l, "postgresql": app_p, "pgbouncer": app_b},
                "db_cpu_ms": {"postgresql": db_p, "pgbouncer": db_b},
                "pgbouncer_cpu_ms": bouncer,
                "pg_over_sqlite_app": app_ratio,
                "pg_over_sqlite_app_plus_db": total_ratio,
                "pgbouncer_over_direct": bouncer_ratio,
                "statements": {
                    "sqlite": extra(lite, name, "statements"),
                    "postgresql": extra(pg, name, "statements"),
                    "pgbouncer": extra(pgb, name, "statements"),
                },
                "round_trips": {"postgresql": trips_p, "pgbouncer": trips_b},
            }
        )
    cpu_table = table(
        [
            "scenario",
            "app SQLite",
            "app PG",
            "PG backends",
            "app PgB",
            "PG backends (PgB)",
            "PgBouncer",
            f"app PG/SQLite (<= {PG_APP_LIMIT})",
            f"app+db PG/SQLite (<= {PG_TOTAL_LIMIT})",
            f"all PgB/direct (<= {BOUNCER_LIMIT})",
        ],
        rows,
    )
    count_table = table(
        [
            "scenario",
            "stmts SQLite",
            "stmts PG",
            "checkouts PG",
            "commit/rollback/reset PG",
            "round trips PG",
            "stmts PgB",
            "round trips PgB",
            "round-trip target",
        ],
        counts,
    )
    return cpu_table, count_table, data


def sync_table(results: dict[str, list[ScenarioResult]]) -> tuple[str, list[dict[str, Any]]]:
    """Initial sync per phase and target: wall time, app CPU, database CPU, statements, round trips."""
    rows, data = [], []
    for target, items in results.items():
        wall = cpu_total = db_total = 0.0
        for r in items:
            db = r.extra.get("db_cpu_ms_per_op")
            app_ms = (r.cpu_ns or 0) / 1e6
            db_ms = db * r.ops if db is not None else None
            wall += r.extra.get("wall_s", 0.0)
            cpu_total += app_ms
            db_total += db_ms or 0.0
            note = f"{r.errors} errors: {(r.first_error or '')[:70]}" if r.errors else ""
            rows.append(
                [
                    target,
                    r.name,
                    str(r.ops),
                    fmt(r.extra.get("wall_s"), 1),
                    fmt(app_ms / 1000, 2),
                    fmt(r.cpu_ms_per_op, 2),
                    fmt(db, 2),
                    fmt(r.extra.get("statements_per_op"), 1),
                    fmt(r.extra.get("round_trips_per_op"), 1),
                    note,
                ]
            )
            data.append({"target": target, **r.as_dict()})
        rows.append(
            [
                target,
                "**total**",
                "",
                fmt(wall, 1),
                fmt(cpu_total / 1000, 2),
                "",
                f"{db_total / 1000:.2f} s",
                "",
                "",
                "",
            ]
        )
    headers = [
        "target",
        "phase",
        "ops",
        "wall s",
        "app CPU s",
        "app ms/op",
        "PG ms/op",
        "stmts/op",
        "round trips/op",
        "note",
    ]
    return table(headers, rows), data


def scale_checks(results: list[ScenarioResult], sizes: list[int]) -> tuple[str, list[dict[str, Any]]]:
    """Issue 8's scale targets: flat member changes and reads, bounded pages and memory."""
    small, big = min(sizes), max(sizes)
    checks: list[tuple[str, str, str, bool | None]] = []

    def flat(kind: str) -> None:
        a, b = cpu(results, f"group.{kind}[{small}]"), cpu(results, f"group.{kind}[{big}]")
        ratio = b / a if a and b is not None else None
        checks.append(
            (
                f"{kind}: {big} vs {small} members",
                f"{fmt(b, 3)} / {fmt(a, 3)} ms = {fmt(ratio)}x",
                f"<= {FLAT_LIMIT}x",
                None if ratio is None else ratio <= FLAT_LIMIT,
            )
        )
        checks.append((f"{kind} on {big} members", f"{fmt(b, 3)} ms", "< 5 ms", None if b is None else b < 5))

    for kind in ("add_one_member", "remove_one_member", "get_excluded_members"):
        flat(kind)
    for size in sizes:
        value = cpu(results, f"group.add_100_members[{size}]")
        checks.append(
            (
                f"add 100 members, {size}-member group",
                f"{fmt(value, 3)} ms",
                "< 20 ms",
                None if value is None else value < 20,
            )
        )
    for first, last in (
        ("users.page_first", "users.page_last"),
        ("users.page_cursor_first", "users.page_cursor_last"),
    ):
        a, b = cpu(results, first), cpu(results, last)
        if a is None and b is None and "cursor" in first:
            checks.append(("cursor pagination (RFC 9865)", "not offered", "offered", False))
            continue
        checks.append((f"{first}", f"{fmt(a, 3)} ms", "< 10 ms", None if a is None else a < 10))
        checks.append((f"{last}", f"{fmt(b, 3)} ms", "< 10 ms", None if b is None else b < 10))
        ratio = b / a if a and b is not None else None
        checks.append(
            (
                f"{last} vs {first}",
                f"{fmt(ratio)}x",
                f"<= {SAME_LIMIT}x",
                None if ratio is None else ratio <= SAME_LIMIT,
            )
        )
    full = by_name(results).get(f"group.get_full[{big}]")
    peak = full.extra.get("peak_rss_kb") if full else None
    checks.append(
        (
            f"read {big}-member group in full: worker peak RSS",
            "-" if peak is None else f"{peak * 1024 / MB:.0f} MB",
            "< 200 MB",
            None if peak is None else peak * 1024 < 200 * MB,
        )
    )
    rows = [[name, value, target, verdict(ok)] for name, value, target, ok in checks]
    data = [{"check": n, "value": v, "target": t, "verdict": verdict(ok)} for n, v, t, ok in checks]
    return table(["check", "measured (server CPU/op)", "target", "result"], rows), data


def scale_table(results: list[ScenarioResult]) -> str:
    """Scale figures, with memory for the full reads."""
    rows = []
    for r in results:
        extra = ""
        if "peak_rss_kb" in r.extra:
            extra = (
                f"members {r.extra['members_returned']}, body {r.extra['response_bytes'] / MB:.1f} MB, "
                f"RSS {r.extra['rss_before_kb'] * 1024 / MB:.0f} -> peak "
                f"{(r.extra['peak_rss_kb'] or 0) * 1024 / MB:.0f} MB"
            )
        if r.errors:
            extra += f" {r.errors} errors: {(r.first_error or '')[:80]}"
        rows.append(
            [r.name, str(r.ops), fmt(r.p50_ms), fmt(r.p95_ms), fmt(r.p99_ms), fmt(r.cpu_ms_per_op, 3), extra]
        )
    return table(["scenario", "ops", "p50 ms", "p95 ms", "p99 ms", "server CPU ms/op", "note"], rows)


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = ""
    try:
        with open("/proc/cpuinfo") as handle:
            model = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), ""
            )
    except OSError:
        pass
    with open("/proc/meminfo") as handle:
        mem_kb = int(handle.readline().split()[1])
    if servers.SOURCE == servers.ROOT:
        git = ["git", "-C", str(servers.ROOT)]
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        status = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
        )
        source = commit + ("+uncommitted changes" if status.stdout.strip() else "")
    else:
        source = str(servers.SOURCE)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "cpu_clock": "schedstat ns"
        if os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/schedstat")
        else f"stat ticks ({driver.CLK_TCK}/s)",
        "scimgate": source,
    }


@contextmanager
def profiled(running: servers.Running, out: Path | None) -> Iterator[None]:
    """Record the target's worker with py-spy while the block runs.

    ``out`` gets collapsed stacks (py-spy --format raw), which speedscope or flamegraph.pl read.
    """
    if out is None:
        yield
        return
    pids = driver.ServerProbe(running.master_pid).workers()
    spy = subprocess.Popen(
        [
            str(servers.BIN / "py-spy"),
            "record",
            "--rate",
            "250",
            "--format",
            "raw",
            "-o",
            str(out),
            "--pid",
            str(pids[0]),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait(timeout=10)


def measure(
    running: servers.Running,
    work: Callable[[driver.ScimClient, driver.ServerProbe], list[ScenarioResult]],
    warm: bool = True,
    profile: Path | None = None,
) -> list[ScenarioResult]:
    """Warm a started target up, then run ``work`` against it (under py-spy when ``profile``)."""
    client = driver.ScimClient(running.base_url, running.headers)
    probe = driver.ServerProbe(running.master_pid)
    try:
        if warm:
            driver.warm_up(client, f"warm-{running.name}")
        with profiled(running, profile):
            return work(client, probe)
    finally:
        client.close()


SCIMGATE_TARGETS = ("scimgate", "scimgate-pg", "scimgate-pgbouncer", "scimgate-pg-noprepare")
DATABASES = {
    "scimgate-pg": "wt_pgbench_direct",
    "scimgate-pgbouncer": "wt_pgbench_pgbouncer",
    "scimgate-pg-noprepare": "wt_pgbench_noprepare",
}


def start_scimgate(
    stack: ExitStack, name: str, args: argparse.Namespace, workdir: Path
) -> tuple[servers.Running, driver.ServerProbe]:
    """Start one scimgate target with its probe and meters; ``stack`` stops and drops it all.

    ``scimgate`` is SQLite (as issue 8 measured it); ``scimgate-pg`` a private PostgreSQL database
    on the shared cluster; ``scimgate-pgbouncer`` another one, served through PgBouncer in
    transaction mode with psycopg's server-side prepared statements off; ``scimgate-pg-noprepare``
    PostgreSQL direct with prepared statements off too, which tells PgBouncer's own cost from the
    cost of planning every statement. Each is configured through
    the CLI directly on its database, then served by the same gunicorn command.
    """
    home = workdir / name
    if name == "scimgate":
        env, token = servers.prepare_scimgate(home)
        running = stack.enter_context(servers.serve_scimgate(home, args.workers, env, token, name))
        probe = driver.ServerProbe(running.master_pid)
        probe.meters.update(pgtargets.count_meters(running.info["sqlcount"]))  # type: ignore[arg-type]
        return running, probe
    database = stack.enter_context(pgtargets.private_database(DATABASES[name]))
    env, token = servers.prepare_scimgate(home, pgtargets.sqlalchemy_url(database))
    port, bouncer_pid = pgtargets.PG_PORT, None
    url, options = None, None
    if name == "scimgate-pgbouncer":
        port, bouncer_pid = stack.enter_context(
            pgtargets.pgbouncer(home / "pgbouncer", [database], pool_size=max(4, 2 * args.workers))
        )
        url, options = pgtargets.sqlalchemy_url(database, "127.0.0.1", port), pgtargets.NO_PREPARE
    elif name == "scimgate-pg-noprepare":
        options = pgtargets.NO_PREPARE
    running = stack.enter_context(
        servers.serve_scimgate(home, args.workers, env, token, name, database_url=url, engine_options=options)
    )
    probe = driver.ServerProbe(running.master_pid)
    backends = pgtargets.BackendCpu(database)
    stack.callback(backends.close)
    probe.meters.update(pgtargets.count_meters(running.info["sqlcount"]))  # type: ignore[arg-type]
    probe.meters.update({"round_trips": pgtargets.RoundTrips(probe, port), "db_cpu_ms": backends})
    if bouncer_pid is not None:
        probe.meters["pgbouncer_cpu_ms"] = pgtargets.process_cpu_ms(bouncer_pid)
    return running, probe


StepsFactory = Callable[
    [str, driver.ScimClient, driver.ServerProbe, servers.Running], Iterator[list[ScenarioResult]]
]


def run_targets(
    args: argparse.Namespace, workdir: Path, clients: int, make_steps: StepsFactory, floor: bool = True
) -> dict[str, list[ScenarioResult]]:
    """Start the targets asked for side by side and drive them one step at a time, in turns.

    All servers are up together (an idle sync worker uses no CPU) and each scenario runs on every
    target back to back; the ones sent in parts (``driver.in_parts``) take turns every part. So a
    change of load on a shared machine hits all targets alike instead of whichever ran then.
    ``clients`` connections per target send each concurrent scenario at once.
    """
    steps: dict[str, Iterator[list[ScenarioResult]]] = {}
    out: dict[str, list[ScenarioResult]] = {}
    with ExitStack() as stack:

        def connect(running: servers.Running, warm: bool) -> driver.ScimClient:
            client = driver.ScimClient(running.base_url, running.headers).with_clients(clients)
            stack.callback(client.close)
            if warm:
                driver.warm_up(client, f"warm-{running.name}")
            return client

        for name in args.targets:
            if name == "floor" and floor:
                print(f"[floor] seeding {args.users} rows, serving ...", flush=True)
                running = stack.enter_context(
                    servers.serve_floor(workdir / "floor", args.workers, args.users)
                )
                probe = driver.ServerProbe(running.master_pid)
                steps["floor"] = make_steps("floor", connect(running, warm=False), probe, running)
            elif name == "peer":
                print("[peer] serving scim2-server ...", flush=True)
                running = stack.enter_context(servers.serve_peer(workdir / "peer", args.workers))
                probe = driver.ServerProbe(running.master_pid)
                steps["peer"] = make_steps("peer", connect(running, warm=True), probe, running)
            elif name in SCIMGATE_TARGETS:
                print(f"[{name}] fresh database, configuring through the CLI, serving ...", flush=True)
                running, probe = start_scimgate(stack, name, args, workdir)
                client = connect(running, warm=True)
                if name == "scimgate" and args.profile:
                    stack.enter_context(profiled(running, RESULTS / f"{args.stamp}-scimgate-normal.folded"))
                steps[name] = make_steps(name, client, probe, running)
        print(
            f"running the workload on {', '.join(steps)} with {clients} client(s) each, taking turns ...",
            flush=True,
        )
        for name in steps:
            out[name] = []
        active = dict(steps)
        for _round in range(1000):  # bounded: a workload has a few dozen steps
            if not active:
                break
            for name, generator in list(active.items()):
                if name in DATABASES:
                    pgtargets.analyze(DATABASES[name])  # what autovacuum does (pgtargets.analyze)
                try:
                    out[name].extend(next(generator))
                except StopIteration:
                    del active[name]
    return out


def run_normal(args: argparse.Namespace, workdir: Path, clients: int = 1) -> dict[str, list[ScenarioResult]]:
    """Normal mode: issue 8's workload on every target (the floor: its GET by id only)."""
    w = driver.Workload(users=args.users, groups=args.groups)

    def make_steps(
        name: str, client: driver.ScimClient, probe: driver.ServerProbe, running: servers.Running
    ) -> Iterator[list[ScenarioResult]]:
        if name == "floor":
            return driver.floor_steps(client, probe, list(running.info["ids"]), w.get_rounds)  # type: ignore[call-overload]
        return driver.standard_steps(client, probe, w)

    return run_targets(args, workdir, clients, make_steps)


def run_initial_sync(
    args: argparse.Namespace, workdir: Path, clients: int
) -> dict[str, list[ScenarioResult]]:
    """Initial-sync mode: every target but the floor runs ``driver.initial_sync_steps``, in turns."""
    s = driver.InitialSync(users=args.sync_users, groups=args.sync_groups, group_size=args.sync_group_size)

    def make_steps(
        _name: str, client: driver.ScimClient, probe: driver.ServerProbe, _running: servers.Running
    ) -> Iterator[list[ScenarioResult]]:
        return driver.initial_sync_steps(client, probe, s)

    return run_targets(args, workdir, clients, make_steps, floor=False)


def run_scale(args: argparse.Namespace, workdir: Path) -> tuple[list[ScenarioResult], dict[str, Any]]:
    """Scale mode (scimgate only): seed users and big groups in bulk, then measure."""
    sizes = [int(s) for s in args.scale_groups.split(",")]
    home = workdir / "scimgate-scale"
    print(
        f"[scale] fresh scimgate database; seeding {args.scale_users} users and groups {sizes} ...",
        flush=True,
    )
    env, token = servers.prepare_scimgate(home)
    ids_file = home / "ids.json"
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            str(servers.BENCH / "seed_scale.py"),
            "--users",
            str(args.scale_users),
            "--groups",
            args.scale_groups,
            "--prefix",
            "scale",
            "--out",
            str(ids_file),
        ],
        env=env,
        cwd=home,
        check=True,
        timeout=1800,
    )
    seeded = json.loads(ids_file.read_text())
    info = {
        "users": args.scale_users,
        "group_sizes": sizes,
        "seed_seconds": round(time.monotonic() - started, 1),
        "seeding": "bulk INSERT through scimgate's models (bench/seed_scale.py)",
    }
    groups = {int(k): v for k, v in seeded["groups"].items()}
    with servers.serve_scimgate(home, args.workers, env, token) as running:

        def work(client: driver.ScimClient, probe: driver.ServerProbe) -> list[ScenarioResult]:
            total = client.request("GET", "/Users", params={"count": 0}).json()["totalResults"]
            if total < args.scale_users:
                raise RuntimeError(f"seeded {args.scale_users} users but the API lists {total}")
            info["api_total_users"] = total
            for size, gid in groups.items():
                reply = client.request("GET", f"/Groups/{gid}", params={"attributes": "displayName"})
                if reply.status != 200:
                    raise RuntimeError(
                        f"seeded group {size} not readable: {reply.status} {reply.body[:200]!r}"
                    )
            print("[scale] seeded data visible through the API; measuring ...", flush=True)
            return driver.scale_workload(client, probe, seeded["users"], groups, driver.ScaleWorkload())

        profile = RESULTS / f"{args.stamp}-scimgate-scale.folded" if args.profile else None
        results = measure(running, work, profile=profile)
    info["database_mb"] = round((home / "scimgate.db").stat().st_size / MB, 1)
    return results, info


def main(argv: list[str] | None = None) -> int:
    """Parse options, run the modes asked for, print and save the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=["normal", "scale", "all", "initial-sync"], default="normal")
    parser.add_argument("--users", type=int, default=1000, help="users in normal mode (default 1000)")
    parser.add_argument("--groups", type=int, default=20, help="groups in normal mode (default 20)")
    parser.add_argument(
        "--targets",
        default="scimgate,peer,floor",
        help="targets to run, in turns: scimgate (SQLite), scimgate-pg (PostgreSQL direct), "
        "scimgate-pgbouncer (PostgreSQL through PgBouncer, transaction mode), scimgate-pg-noprepare "
        "(PostgreSQL direct without server-side prepared statements), peer, floor",
    )
    parser.add_argument(
        "--clients",
        default="1",
        help="concurrent clients per target, a list runs the whole mode once per value (e.g. 1,4)",
    )
    parser.add_argument("--sync-users", type=int, default=10_000, help="initial-sync: users created")
    parser.add_argument("--sync-groups", type=int, default=200, help="initial-sync: groups created")
    parser.add_argument(
        "--sync-group-size", type=int, default=500, help="initial-sync: members per group (PATCHes of 100)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="gunicorn sync workers for every target (default 1)"
    )
    parser.add_argument("--scale-users", type=int, default=100_000)
    parser.add_argument("--scale-groups", default="100,10000,100000", help="group sizes in scale mode")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases and logs")
    parser.add_argument("--label", default="", help="a note stored in the JSON (e.g. the commit of --source)")
    parser.add_argument(
        "--source",
        type=Path,
        help="benchmark the scimgate checkout in this directory (e.g. `git archive` of a commit) "
        "instead of this working tree",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record scimgate's worker with py-spy: results/<stamp>-*.folded (collapsed stacks)",
    )
    args = parser.parse_args(argv)
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    if args.source:
        servers.set_source(args.source)
    if args.workers != 1 and "peer" in args.targets:
        print(
            "note: the peer keeps resources in worker memory; with several workers its results are wrong",
            file=sys.stderr,
        )

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    stamp = args.stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"scimgate-bench-{stamp}-"))
    report: dict[str, Any] = {
        "started": stamp,
        "label": args.label,
        "machine": machine(),
        "settings": {
            "gunicorn": " ".join(servers.gunicorn_command(Path("<dir>"), "<app>", 0, args.workers)[1:]),
            "workers": args.workers,
            "worker_class": "sync",
            "users": args.users,
            "groups": args.groups,
            "mode": args.mode,
            "clients": clients,
            "targets": args.targets,
        },
    }
    text: list[str] = []
    try:
        if args.mode in ("normal", "all"):
            for count in clients:
                normal = run_normal(args, workdir / f"normal-{count}", count)
                key = "normal" if count == 1 else f"normal_clients_{count}"
                report[key] = {k: [r.as_dict() for r in v] for k, v in normal.items()}
                where = f"{args.users} users, {args.groups} groups, {count} client(s)"
                for name, results in normal.items():
                    text += [f"\n## {name} ({where})\n", results_table(results)]
                if "scimgate" in normal and ("peer" in normal or "floor" in normal):
                    rendered, data = comparison(normal)
                    report[f"comparison_clients_{count}"] = data
                    text += [
                        f"\n## Server CPU per operation: ratios and issue 8 targets ({count} client(s))\n",
                        rendered,
                    ]
                if "scimgate-pg" in normal or "scimgate-pgbouncer" in normal:
                    cpu_table, count_table, data = pg_comparison(normal)
                    report[f"postgresql_clients_{count}"] = data
                    text += [
                        "\n## PostgreSQL and PgBouncer: CPU ms per operation, issue 19 targets "
                        f"({count} client(s))\n",
                        cpu_table,
                        f"\n## Statements and round trips per request ({count} client(s))\n",
                        count_table,
                    ]
        if args.mode == "initial-sync":
            for count in clients:
                synced = run_initial_sync(args, workdir / f"sync-{count}", count)
                rendered, data = sync_table(synced)
                report[f"initial_sync_clients_{count}"] = data
                text += [
                    f"\n## Initial sync: {args.sync_users} users, {args.sync_groups} groups of "
                    f"{args.sync_group_size} members in PATCHes of 100, re-read in pages "
                    f"({count} client(s))\n",
                    rendered,
                ]
        if args.mode in ("scale", "all"):
            scale, info = run_scale(args, workdir)
            report["scale"] = {"info": info, "results": [r.as_dict() for r in scale]}
            rendered, data = scale_checks(scale, info["group_sizes"])
            report["scale"]["checks"] = data
            text += [
                f"\n## scimgate at scale ({info['users']} users; groups of "
                f"{', '.join(str(s) for s in info['group_sizes'])} members)\n",
                scale_table(scale),
                "\n### Scale targets\n",
                rendered,
            ]
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    output = "\n".join(text)
    print(output)
    RESULTS.mkdir(exist_ok=True)
    json_path = RESULTS / f"{stamp}.json"
    json_path.write_text(json.dumps(report, indent=2))
    (RESULTS / f"{stamp}.md").write_text(output + "\n")
    print(f"\nwrote {json_path.relative_to(servers.ROOT)} (and .md)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
