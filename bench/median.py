"""Median of several ``bench/run`` results: issue 8's and issue 19's tables, per client count.

The targets are stated as "the median of three runs, ratios measured in one run": each ratio is
taken within its run (both sides measured side by side, in turns), then the median and the range
of those ratios are printed, with the median CPU figures beside them.

    bench/.venv/bin/python bench/median.py bench/results/A.json bench/results/B.json bench/results/C.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGETED = ("users.create", "users.get", "users.filter_userName", "users.patch_active")


def spread(values: list[float | None], digits: int = 2) -> str:
    """``median (low-high)`` of the values present, or ``-``."""
    present = [v for v in values if v is not None]
    if not present:
        return "-"
    median = statistics.median(present)
    if len(present) == 1:
        return f"{median:.{digits}f}"
    return f"{median:.{digits}f} ({min(present):.{digits}f}-{max(present):.{digits}f})"


def rows_by_scenario(runs: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    """Each scenario's row of table ``key`` in every run that has it."""
    found: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        for row in run.get(key, []):
            found.setdefault(row["scenario"], []).append(row)
    return found


def issue8_table(runs: list[dict[str, Any]], clients: int) -> str:
    """scimgate on SQLite vs the peer and the floor: CPU and ratio medians."""
    lines = [
        f"### Issue 8's targets, {clients} client(s): median (range) of {len(runs)} runs\n",
        "| scenario | scimgate ms | peer ms | scimgate/peer | scimgate/floor | target |",
        "|---|---|---|---|---|---|",
    ]
    for name, rows in rows_by_scenario(runs, f"comparison_clients_{clients}").items():
        ours = spread([r["scimgate_cpu_ms"] for r in rows], 3)
        peer = spread([r["peer_cpu_ms"] for r in rows], 3)
        over_peer = spread([r["scimgate_over_peer"] for r in rows])
        over_floor = spread([r["scimgate_over_floor"] for r in rows])
        lines.append(f"| {name} | {ours} | {peer} | {over_peer} | {over_floor} | {rows[0]['target'] or ''} |")
    return "\n".join(lines)


def issue19_table(runs: list[dict[str, Any]], clients: int) -> str:
    """SQLite vs PostgreSQL vs PgBouncer: CPU medians and within-run ratio medians."""
    lines = [
        f"### PostgreSQL and PgBouncer, {clients} client(s): median (range) of {len(runs)} runs\n",
        "| scenario | app SQLite | app PG | PG backends | app PgB | PG backends (PgB) | PgBouncer "
        "| app PG/SQLite (<= 1.25) | app+db PG/SQLite (<= 1.6) | all PgB/direct (<= 1.1) | round trips PG |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    pick: dict[str, Callable[[dict[str, Any]], float | None]] = {
        "app SQLite": lambda r: r["app_cpu_ms"]["sqlite"],
        "app PG": lambda r: r["app_cpu_ms"]["postgresql"],
        "PG backends": lambda r: r["db_cpu_ms"]["postgresql"],
        "app PgB": lambda r: r["app_cpu_ms"]["pgbouncer"],
        "PG backends (PgB)": lambda r: r["db_cpu_ms"]["pgbouncer"],
        "PgBouncer": lambda r: r["pgbouncer_cpu_ms"],
    }
    for name, rows in rows_by_scenario(runs, f"postgresql_clients_{clients}").items():
        cells = [spread([get(r) for r in rows], 3).split(" ")[0] for get in pick.values()]
        ratios = [
            spread([r[key] for r in rows])
            for key in ("pg_over_sqlite_app", "pg_over_sqlite_app_plus_db", "pgbouncer_over_direct")
        ]
        trips = spread([r["round_trips"]["postgresql"] for r in rows], 1).split(" ")[0]
        label = f"**{name}**" if name in TARGETED else name
        lines.append(f"| {label} | {' | '.join(cells)} | {' | '.join(ratios)} | {trips} |")
    return "\n".join(lines)


def main() -> int:
    """Print the median tables of the result files given."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("results", nargs="+", type=Path)
    args = parser.parse_args()
    runs = [json.loads(path.read_text()) for path in args.results]
    for clients in (1, 4):
        if any(f"comparison_clients_{clients}" in run for run in runs):
            print(issue8_table(runs, clients), end="\n\n")
        if any(f"postgresql_clients_{clients}" in run for run in runs):
            print(issue19_table(runs, clients), end="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
