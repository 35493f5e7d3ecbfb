"""Server CPU per request measured in-process: the quick loop for working on hot paths.

``bench/run`` is the benchmark of record (real HTTP, gunicorn, the peer side by side). This
helper answers a narrower question fast: how much CPU does scimgate's WSGI application itself
spend per request, next to the floor application (``floor_app.py``) and, when ``scim2-server`` is
installed (run it with ``bench/.venv/bin/python``), the peer (``peer_app.py``), with no HTTP
server and no network in between? It calls each WSGI application directly with a prepared environ, so the
figures leave out gunicorn's own per-request work (about the same for every target) and move
less between runs. Optionally it profiles one scenario with cProfile.

    .venv/bin/python bench/inproc.py [--users 1000] [--repeat 2000] [--profile users.get]
    bench/.venv/bin/python bench/inproc.py      # the same, with the peer's scenarios and ratios
    bench/.venv/bin/python bench/inproc.py --postgresql   # scimgate on a private PostgreSQL database

With ``--profile``, ``SCIMGATE_PROFILE_TIMER=cpu`` counts CPU time instead of wall time,
``SCIMGATE_PROFILE_CALLERS=<function>`` (e.g. ``local.py:310``) also prints
who calls that function and how often, ``SCIMGATE_PROFILE_CALLEES=<function>`` what it calls.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import pgtargets  # noqa: E402
import servers  # noqa: E402

BATCH = 50
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def call(app: WSGIApp, method: str, path: str, token: str, body: Any = None) -> tuple[int, bytes]:
    """Serve one request through ``app`` and return (status, body)."""
    raw = b"" if body is None else json.dumps(body).encode()
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "CONTENT_TYPE": "application/scim+json",
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status: list[str] = []

    def start_response(line: str, headers: list, exc_info: Any = None) -> None:
        status.append(line)

    result = app(environ, start_response)
    try:
        payload = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return int(status[0].split()[0]), payload


def measure(
    name: str, requests: list[tuple[str, str, Any]], app: WSGIApp, token: str, expect: int | tuple[int, ...]
) -> float:
    """CPU milliseconds per request: the cheapest batch of 100 (after a short warm-up).

    The cheapest batch rather than the mean, because what other processes do to this one (cache
    misses, interrupts) only ever adds time; the minimum over many batches moves least.
    """
    if requests[0][0] == "GET":
        for method, path, body in requests[:20]:
            call(app, method, path, token, body)
    best = float("inf")
    for first in range(0, len(requests), BATCH):
        batch = requests[first : first + BATCH]
        start = time.process_time()
        for method, path, body in batch:
            status, payload = call(app, method, path, token, body)
            if status not in (expect if isinstance(expect, tuple) else (expect,)):
                raise RuntimeError(f"{name}: {method} {path} answered {status}: {payload[:300]!r}")
        best = min(best, (time.process_time() - start) * 1000 / len(batch))
    return best


def main() -> int:
    """Seed both applications, then print CPU ms per request for each scenario."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2000, help="requests per read scenario")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per scenario; the best is shown")
    parser.add_argument("--profile", help="profile this scenario with cProfile and print the top entries")
    parser.add_argument(
        "--postgresql",
        action="store_true",
        help="serve scimgate from a private database on the bench's PostgreSQL (pgtargets.py), dropped after",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="scimgate-inproc-"))
    try:
        if not args.postgresql:
            return run(args, workdir, None)
        with pgtargets.private_database("wt_pgbench_inproc") as database:
            try:
                return run(args, workdir, pgtargets.sqlalchemy_url(database))
            finally:
                _flush_activity()  # before the database is dropped
    finally:
        _flush_activity()  # the activity rows still queued, before their database goes
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, workdir: Path, database_url: str | None) -> int:
    """Prepare scimgate (on SQLite in ``workdir`` or ``database_url``) and the floor, and measure."""
    env, token = servers.prepare_scimgate(workdir / "scimgate", database_url)
    os.environ.update(env)
    os.chdir(workdir / "scimgate")
    sys.path.insert(0, str(servers.SOURCE))
    from floor_app import create_app as create_floor
    from floor_app import seed as seed_floor

    from scimgate import create_app

    app = create_app()
    floor_url = f"sqlite:///{workdir / 'floor.db'}"
    floor_ids = seed_floor(floor_url, args.users)
    floor = create_floor(floor_url, token="floor")

    peer = peer_app(token)
    peer_ids = []
    if peer is not None:
        for i in range(args.users):
            status, payload = call(peer, "POST", "/v2/Users", token, user_body(i))
            if status != 201:
                raise RuntimeError(f"seeding the peer answered {status}: {payload[:300]!r}")
            peer_ids.append(json.loads(payload)["id"])
    ids = []
    for i in range(args.users):
        status, payload = call(app, "POST", "/scim/v2/Users", token, user_body(i))
        if status != 201:
            raise RuntimeError(f"seeding answered {status}: {payload[:300]!r}")
        ids.append(json.loads(payload)["id"])
    reps = args.repeat
    status, payload = call(app, "POST", "/scim/v2/Groups", token, {"schemas": [GROUP], "displayName": "Big"})
    group_id = json.loads(payload)["id"]
    for first in range(0, len(ids), 100):
        members = [{"value": value} for value in ids[first : first + 100]]
        call(app, "PATCH", f"/scim/v2/Groups/{group_id}", token, member_patch("add", members))
    scenarios: dict[str, tuple[WSGIApp, str, list[tuple[str, str, Any]], Any]] = {
        "floor.get": (
            floor,
            "floor",
            [("GET", f"/Users/{floor_ids[i % args.users]}", None) for i in range(reps)],
            200,
        ),
        "floor.healthz": (floor, "floor", [("GET", "/healthz", None)] * reps, 200),
        "scimgate.healthz": (app, token, [("GET", "/healthz", None)] * reps, 200),
        "users.page_100": (
            app,
            token,
            [
                ("GET", f"/scim/v2/Users?count=100&startIndex={1 + (i * 100) % args.users}", None)
                for i in range(reps // 20)
            ],
            200,
        ),
        "group.remove_add_one_member": (
            app,
            token,
            [
                (
                    "PATCH",
                    f"/scim/v2/Groups/{group_id}",
                    member_patch("remove", None, f'members[value eq "{ids[(i // 2) % len(ids)]}"]')
                    if i % 2 == 0
                    else member_patch("add", [{"value": ids[(i // 2) % len(ids)]}]),
                )
                for i in range(reps // 4)
            ],
            (200, 204),  # 204 above SCIM_PATCH_BODY_MAX_MEMBERS (1000) members
        ),
        **user_scenarios("users", app, token, "/scim/v2", ids, reps, 200),
    }
    if peer is not None:
        # the peer answers a PATCH with 204 (RFC 7644 §3.5.2 allows either)
        scenarios.update(user_scenarios("peer", peer, token, "/v2", peer_ids, reps, (200, 204)))
    creates = reps // 4
    # SCIMGATE_PROFILE_TIMER=cpu: attribute CPU time (process_time), not wall time, e.g. to tell
    # time spent waiting on PostgreSQL from CPU spent in the driver.
    timer = time.process_time if os.environ.get("SCIMGATE_PROFILE_TIMER") == "cpu" else time.perf_counter
    profiler = cProfile.Profile(timer) if args.profile else None
    best: dict[str, float] = {}
    for round_number in range(args.rounds):
        # Every round creates users of its own, so each scenario can run again.
        first = args.users + round_number * creates
        scenarios["users.create"] = (
            app,
            token,
            [("POST", "/scim/v2/Users", user_body(first + i)) for i in range(creates)],
            201,
        )
        if peer is not None:
            scenarios["peer.create"] = (
                peer,
                token,
                [("POST", "/v2/Users", user_body(first + i)) for i in range(creates)],
                201,
            )
        for name, (target, credential, requests, expect) in scenarios.items():
            profiling = profiler is not None and name == args.profile and round_number == 0
            if profiling:
                profiler.enable()
            ms = measure(name, requests, target, credential, expect)
            if profiling:
                profiler.disable()
            best[name] = min(best.get(name, ms), ms)
    if os.environ.get("SCIMGATE_PROFILE_THREADS"):
        print_thread_cpu()
    for name, ms in best.items():
        print(f"{name:24s} {ms:7.3f} ms CPU/request  (cheapest batch of {BATCH}, {args.rounds} rounds)")
    floor_ms = best["floor.get"]
    print(f"users.get / floor.get    {best['users.get'] / floor_ms:7.2f}")
    for name in ("create", "patch_active", "filter_userName", "get"):
        if f"peer.{name}" in best:
            ratio = best[f"users.{name}"] / best[f"peer.{name}"]
            print(f"users.{name} / peer".ljust(25) + f"{ratio:7.2f}")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(40)
        print(out.getvalue())
        callers_of = os.environ.get("SCIMGATE_PROFILE_CALLERS")
        if callers_of:  # e.g. "local.py:310": who calls it, how often
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_callers(callers_of)
            print(out.getvalue())
        callees_of = os.environ.get("SCIMGATE_PROFILE_CALLEES")
        if callees_of:  # e.g. "auth.py:113": what it calls, how often, at what cost
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_callees(callees_of)
            print(out.getvalue())
    return 0


def print_thread_cpu() -> None:
    """Each thread's CPU so far (``SCIMGATE_PROFILE_THREADS=1``): time.process_time, which the
    figures use, counts every thread of the process, the background ones included."""
    ticks = os.sysconf("SC_CLK_TCK")
    for task in sorted(Path("/proc/self/task").iterdir()):
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        name = (task / "comm").read_text().strip()
        print(f"thread {task.name} {name:16s} {(int(fields[11]) + int(fields[12])) / ticks:8.2f} s CPU")


def peer_app(token: str) -> WSGIApp | None:
    """The peer's WSGI application with ``token``, or None when scim2-server is not installed."""
    try:
        from peer_app import create_app as create_peer
    except ModuleNotFoundError:
        return None
    return create_peer(token)


def user_scenarios(
    name: str, app: WSGIApp, token: str, base: str, ids: list[str], reps: int, patched: Any
) -> dict[str, tuple[WSGIApp, str, list[tuple[str, str, Any]], Any]]:
    """GET by id, the userName lookup and the active PATCH on ``app`` (SCIM base path ``base``)."""
    return {
        f"{name}.get": (
            app,
            token,
            [("GET", f"{base}/Users/{ids[i % len(ids)]}", None) for i in range(reps)],
            200,
        ),
        f"{name}.filter_userName": (
            app,
            token,
            [("GET", filter_url(i % len(ids), base), None) for i in range(reps // 2)],
            200,
        ),
        f"{name}.patch_active": (
            app,
            token,
            [
                ("PATCH", f"{base}/Users/{ids[(i // 2) % len(ids)]}", patch_active(i % 2 == 1))
                for i in range(reps // 2)
            ],
            patched,
        ),
    }


def filter_url(i: int, base: str = "/scim/v2") -> str:
    """Okta's lookup before a create: ``userName eq "..."``."""
    return f"{base}/Users?filter=userName%20eq%20%22inproc-user-{i:06d}%40example.com%22"


def user_body(i: int) -> dict[str, Any]:
    """A typical Okta user."""
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": f"inproc-user-{i:06d}@example.com",
        "name": {"givenName": "Given", "familyName": f"Family{i}"},
        "emails": [{"primary": True, "value": f"inproc-user-{i:06d}@example.com", "type": "work"}],
        "externalId": f"00u{i:017d}",
        "active": True,
    }


def member_patch(op: str, value: Any, path: str = "members") -> dict[str, Any]:
    """Okta's member add (a list of values) and remove (a value filter)."""
    operation: dict[str, Any] = {"op": op, "path": path}
    if value is not None:
        operation["value"] = value
    return {"schemas": [PATCH_OP], "Operations": [operation]}


def patch_active(value: bool) -> dict[str, Any]:
    """Okta's deactivate/reactivate PATCH."""
    return {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": value}}]}


def _flush_activity() -> None:
    """Write scimgate's queued activity rows now (its exit hook would find the work dir gone)."""
    if "scimgate.logs.activity" in sys.modules:
        sys.modules["scimgate.logs.activity"].flush_all()


if __name__ == "__main__":
    sys.exit(main())
