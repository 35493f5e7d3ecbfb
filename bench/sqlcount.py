"""Count the SQL statements scimgate sends to SQLite for each kind of SCIM request.

Evidence for the benchmark's findings, not a timing: every statement SQLite runs (including
BEGIN/COMMIT, the pool's ping and the per-request configuration read) is captured with
``sqlite3.Connection.set_trace_callback`` while scimgate's app serves one request in-process
(Flask test client, production configuration, a database configured through the CLI like the
benchmark's). Groups of two sizes and pages of two sizes show which counts stay constant.

    bench/.venv/bin/python bench/sqlcount.py [--source DIR] [--small 10] [--big 2000] [--users N]
                                             [--show [--time]]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import servers

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def time_alone(database: Path, text: str, repeat: int = 5) -> float:
    """Best-of-``repeat`` milliseconds of one SELECT run alone on its own connection (0 for others)."""
    if not text.lstrip().upper().startswith("SELECT"):
        return 0.0
    connection = sqlite3.connect(database)
    try:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            connection.execute(text).fetchall()
            best = min(best, time.perf_counter() - start)
        return best * 1000
    finally:
        connection.close()


def main() -> int:
    """Prepare a database, then print one row per request: statement count and kinds."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, help="scimgate checkout to inspect (default: this one)")
    parser.add_argument("--small", type=int, default=10, help="members of the small group")
    parser.add_argument("--big", type=int, default=2000, help="members of the big group")
    parser.add_argument("--users", type=int, default=0, help="users in the directory (default: big + 200)")
    parser.add_argument("--show", action="store_true", help="print every statement")
    parser.add_argument(
        "--time",
        action="store_true",
        help="with --show: run each SELECT again alone and print its milliseconds",
    )
    args = parser.parse_args()
    if args.source:
        servers.set_source(args.source)
    sys.path.insert(0, str(servers.SOURCE))
    workdir = Path(tempfile.mkdtemp(prefix="scimgate-sqlcount-"))
    try:
        return report(args, workdir)
    finally:
        _flush_activity()  # the activity rows still queued, before their database goes
        shutil.rmtree(workdir, ignore_errors=True)


def report(args: argparse.Namespace, workdir: Path) -> int:
    """Configure and seed a database in ``workdir``, then serve and trace each request kind."""
    env, token = servers.prepare_scimgate(workdir)
    os.environ.update(env)
    os.chdir(workdir)
    users = max(args.users, args.big + 200)
    from seed_scale import seed

    seeded = seed(users, [args.small, args.big], "sql")
    ids: list[str] = seeded["users"]
    small, big = seeded["groups"][str(args.small)], seeded["groups"][str(args.big)]

    import sqlalchemy as sa

    from scimgate import create_app
    from scimgate.extensions import db

    app = create_app()
    statements: list[str] = []

    def trace(dbapi_connection: Any, _record: Any) -> None:
        if hasattr(dbapi_connection, "set_trace_callback"):
            dbapi_connection.set_trace_callback(statements.append)

    with app.app_context():
        db.engine.dispose()
        sa.event.listen(db.engine, "connect", trace)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    base = "/scim/v2"

    def patch(*ops: dict[str, Any]) -> dict[str, Any]:
        return {"schemas": [PATCH_OP], "Operations": list(ops)}

    def add(values: list[str]) -> dict[str, Any]:
        return patch({"op": "add", "path": "members", "value": [{"value": v} for v in values]})

    def remove(value: str) -> dict[str, Any]:
        return patch({"op": "remove", "path": f'members[value eq "{value}"]'})

    outsider = ids[-1]
    fresh = ids[args.big : args.big + 100]
    cases: list[tuple[str, str, str, dict[str, Any] | None]] = [
        ("GET /Users/{id}", "GET", f"/Users/{ids[0]}", None),
        ("GET /Users?filter=userName eq", "GET", '/Users?filter=userName eq "sql-user-000001"', None),
        ("POST /Users", "POST", "/Users", {"userName": "sqlcount-new", "name": {"givenName": "A"}}),
        (
            "PATCH /Users/{id} active=false",
            "PATCH",
            f"/Users/{ids[1]}",
            patch({"op": "replace", "path": "active", "value": False}),
        ),
        ("GET /Users?count=10", "GET", "/Users?startIndex=1&count=10", None),
        ("GET /Users?count=100", "GET", "/Users?startIndex=1&count=100", None),
        ("GET /Users?count=100 last page", "GET", f"/Users?startIndex={users - 99}&count=100", None),
        ("GET /Users?count=100&cursor=", "GET", "/Users?count=100&cursor=", None),
    ]
    for label, gid in ((f"{args.small}", small), (f"{args.big}", big)):
        cases += [
            (
                f"GET /Groups/{{id}}?excludedAttributes=members [{label}]",
                "GET",
                f"/Groups/{gid}?excludedAttributes=members",
                None,
            ),
            (f"GET /Groups/{{id}} [{label}]", "GET", f"/Groups/{gid}", None),
            (f"PATCH add 1 member [{label}]", "PATCH", f"/Groups/{gid}", add([outsider])),
            (f"PATCH remove 1 member [{label}]", "PATCH", f"/Groups/{gid}", remove(outsider)),
            (f"PATCH add 100 members [{label}]", "PATCH", f"/Groups/{gid}", add(fresh)),
        ]
    cases.append(("DELETE /Users/{id}", "DELETE", f"/Users/{ids[2]}", None))
    client.get(f"{base}/Users/{ids[0]}", headers=headers)  # connect, warm caches
    width = max(len(c[0]) for c in cases)
    print(f"{'request':{width}}  status  statements  (kinds)")
    for label, method, path, body in cases:
        statements.clear()
        response = client.open(base + path, method=method, json=body, headers=headers)
        kinds: dict[str, int] = {}
        for text in statements:
            word = text.strip().split(None, 1)[0].upper() if text.strip() else "?"
            kinds[word] = kinds.get(word, 0) + 1
        summary = ", ".join(f"{k} {v}" for k, v in kinds.items())
        print(f"{label:{width}}  {response.status_code:6}  {len(statements):10}  ({summary})")
        if args.show:
            for text in statements:
                cost = f"{time_alone(workdir / 'scimgate.db', text):8.2f} ms  " if args.time else ""
                print(f"      {cost}{' '.join(text.split())[:300]}")
    return 0


def _flush_activity() -> None:
    """Write scimgate's queued activity rows now (its exit hook would find the work dir gone)."""
    if "scimgate.logs.activity" in sys.modules:
        sys.modules["scimgate.logs.activity"].flush_all()


if __name__ == "__main__":
    raise SystemExit(main())
