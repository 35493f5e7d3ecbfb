"""SCIM workload driver: runs scenarios against any SCIM base URL and measures each one.

Per scenario it reports ops/s, p50/p95/p99 latency (client side, one request at a time over
loopback) and the SERVER's CPU milliseconds per operation: the CPU time of the server's worker
processes, all threads, in nanoseconds (``/proc/<pid>/task/<tid>/schedstat``; ``/proc/<pid>/stat``
ticks where schedstat is missing), summed per scenario and divided by the number of operations.
With gunicorn the workers are the children of the master pid given; the master's own CPU (it only
supervises) is left out.

Each request is charged from the moment it is sent until the next request is sent (the last one
until the workers are idle again), not only while the client waits for the answer: a server
keeps working after the client has the whole response (the end of a chunked body, its access log,
closing the connection, a background flush), and a running thread's CPU reaches ``/proc`` only
when it sleeps or at a timer tick. Reading around the response lost most of a fast in-memory
server's CPU (the peer's GET: 0.26 of 0.61 ms, see docs/performance.md).

Standalone use (the orchestrator ``bench/bench.py`` calls the same functions)::

    bench/.venv/bin/python bench/driver.py --base-url http://127.0.0.1:8000/scim/v2 \\
        --auth "Bearer <token>" --server-pid <gunicorn master pid> --users 1000

Only loopback addresses are accepted: this is a load generator.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CLK_TCK = os.sysconf("SC_CLK_TCK")
NS_PER_TICK = 1_000_000_000 // CLK_TCK
# After a stream's last request: how long the workers must stay idle before their CPU is read, and
# the longest wait.
SETTLE_QUIET_S = 0.05
# The scenarios with a target against the peer or the floor run in this many parts, in turns: this
# machine's speed drifts by 20-50 % within minutes, and finer turns cancel more of that drift.
INTERLEAVE_PARTS = 10
SETTLE_MAX_S = 1.5


# --------------------------------------------------------------------------------------------
# Server processes: CPU and memory from /proc
# --------------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    """Fields of ``/proc/<pid>/stat`` from field 3 (state) on; the command name may hold spaces."""
    with open(f"/proc/{pid}/stat") as handle:
        data = handle.read()
    return data[data.rindex(")") + 2 :].split()


def children_of(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (gunicorn's workers are the children of its master)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if int(_stat_fields(int(entry))[1]) == pid:
                found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return sorted(found)


def process_cpu_ns(pid: int) -> int:
    """CPU time of every thread of ``pid`` in ns: schedstat's precise run time, else stat's ticks.

    A vanished thread or process counts 0 (its time left with it, as a worker restart would).
    """
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    total = 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as handle:
                total += int(handle.read().split()[0])
        except FileNotFoundError:
            try:
                fields = _stat_fields(pid)
            except OSError:
                return total
            return (int(fields[11]) + int(fields[12])) * NS_PER_TICK  # utime, stime: whole process
        except (OSError, ValueError, IndexError):
            continue
    return total


def _status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class ServerProbe:
    """Reads the CPU time and memory of a server's worker processes.

    ``master_pid`` None disables the probe (CPU figures are then reported as None). ``meters``
    (name -> a function returning a cumulative figure: the database's CPU, statements, round
    trips; see bench/pgtargets.py) are read when a stream of requests starts and ends, and their
    change is reported per operation in the result's ``extra`` as ``<name>_per_op``.
    """

    def __init__(self, master_pid: int | None, meters: dict[str, Callable[[], float]] | None = None) -> None:
        self.master_pid = master_pid
        self.meters = dict(meters or {})
        self._workers: list[int] = []

    def read_meters(self) -> dict[str, float]:
        """Every meter's cumulative figure now."""
        return {name: meter() for name, meter in self.meters.items()}

    def workers(self) -> list[int]:
        """The worker pids (the master itself when it has no children, e.g. a single process)."""
        if self.master_pid is None:
            return []
        if not self._workers or not all(os.path.exists(f"/proc/{p}") for p in self._workers):
            self._workers = children_of(self.master_pid) or [self.master_pid]
        return self._workers

    def cpu_ns(self) -> int | None:
        """CPU time of the workers (every thread), in nanoseconds."""
        pids = self.workers()
        if not pids:
            return None
        return sum(process_cpu_ns(pid) for pid in pids)

    def settle(self, quiet_s: float = SETTLE_QUIET_S, max_s: float = SETTLE_MAX_S) -> int | None:
        """Wait until the workers' CPU stops moving for ``quiet_s`` (at most ``max_s``); return it."""
        deadline = time.monotonic() + max_s
        last = self.cpu_ns()
        while time.monotonic() < deadline:
            time.sleep(quiet_s)
            now = self.cpu_ns()
            if now == last:
                break
            last = now
        return last

    def rss_kb(self) -> int | None:
        """Current resident memory of the largest worker."""
        pids = self.workers()
        return max((_status_kb(p, "VmRSS") for p in pids), default=None) if pids else None

    def reset_peak(self) -> bool:
        """Reset every worker's peak RSS (``VmHWM``) by writing 5 to ``clear_refs``; False if denied."""
        done = True
        for pid in self.workers():
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as handle:
                    handle.write("5")
            except OSError:
                done = False
        return done

    def peak_rss_kb(self) -> int | None:
        """Peak resident memory (``VmHWM``) of the largest worker since the last reset."""
        pids = self.workers()
        return max((_status_kb(p, "VmHWM") for p in pids), default=None) if pids else None


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


def require_loopback(host: str) -> None:
    """Refuse anything but a loopback address: the driver only loads servers on this machine."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as error:
        raise SystemExit(f"cannot resolve {host!r}: {error}") from None
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_loopback:
            raise SystemExit(f"{host!r} resolves to {address}, not a loopback address; refusing to load it")


@dataclass
class Reply:
    """One HTTP response and how long it took (client side)."""

    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        """The body parsed as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


class ScimClient:
    """A minimal HTTP/1.1 client for one SCIM base URL (reconnects when the server closes)."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float = 300) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise SystemExit(f"base URL must be http://<loopback>[:port]/path, got {base_url!r}")
        require_loopback(parts.hostname)
        self.base_url = base_url.rstrip("/")
        self.prefix = parts.path.rstrip("/")
        self.headers = {"Accept": "application/scim+json", **headers}
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
        # More connections to the same server, for concurrent clients (see ``with_clients``).
        self.siblings: list[ScimClient] = []

    def with_clients(self, count: int) -> ScimClient:
        """Give this client ``count - 1`` sibling connections (``count`` concurrent clients in all)."""
        base = dict(self.headers)
        base.pop("Accept", None)
        self.siblings = [ScimClient(self.base_url, base) for _ in range(count - 1)]
        return self

    def request(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> Reply:
        """Send one request and read the whole response."""
        url = self.prefix + path
        if params:
            url += "?" + urlencode(params, quote_via=quote)
        data = None if body is None else json.dumps(body).encode()
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/scim+json"
        start = time.perf_counter()
        try:
            self.connection.request(method, url, body=data, headers=headers)
            response = self.connection.getresponse()
            payload = response.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            raise
        elapsed = time.perf_counter() - start
        if response.will_close:
            self.connection.close()
        return Reply(response.status, payload, elapsed)

    def close(self) -> None:
        """Close the connection (and the siblings')."""
        self.connection.close()
        for sibling in self.siblings:
            sibling.close()


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------


@dataclass
class Request:
    """One operation of a scenario; ``bucket`` names the scenario it is counted in."""

    bucket: str
    method: str
    path: str
    body: Any = None
    params: dict[str, Any] | None = None
    expect: tuple[int, ...] = (200,)


@dataclass
class ScenarioResult:
    """What one scenario measured."""

    name: str
    ops: int = 0
    errors: int = 0
    seconds: float = 0.0
    ops_per_s: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    cpu_ms_per_op: float | None = None
    cpu_ns: int | None = None
    first_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class _Accumulator:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    cpu_ns: int = 0
    seconds: float = 0.0
    meters: dict[str, float] = field(default_factory=dict)


def _percentile(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = min(len(sorted_ms) - 1, max(0, round(q * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[index]


def run(
    client: ScimClient,
    probe: ServerProbe,
    requests: Iterable[Request],
    on_reply: Callable[[Request, Reply], None] | None = None,
    max_seconds: float = 900,
    buckets: dict[str, _Accumulator] | None = None,
    concurrent: bool = False,
) -> dict[str, ScenarioResult]:
    """Send ``requests`` one after the other; return one result per bucket, in first-seen order.

    ``buckets`` (from an earlier call) continues a scenario sent in parts (see ``in_parts``): the
    results then cover every part so far.

    The server CPU of each request is the change of the workers' CPU from its start to the
    next request's start (after the last one: until the workers are idle), so buckets
    interleaved in one stream (remove one member, add it back, ...) are still measured apart and
    nothing a request costs after its response is lost.
    ``requests`` may be a generator that reads what ``on_reply`` stored (e.g. a next cursor).
    Past ``max_seconds`` it stops before the next request of the stream's first bucket, so the
    operation counts are bounded in time as well.

    ``concurrent`` with ``client.siblings`` sends the requests over all the client's connections
    at once (see :func:`run_concurrent`).
    """
    buckets = {} if buckets is None else buckets
    if concurrent and client.siblings:
        return run_concurrent(client, probe, list(requests), on_reply, buckets)
    deadline = time.monotonic() + max_seconds
    first_bucket: str | None = None
    pending: _Accumulator | None = None  # the previous request's bucket, charged until now
    mark = probe.settle()
    before = probe.read_meters()
    sent: dict[str, int] = {}
    for req in requests:
        first_bucket = first_bucket or req.bucket
        if req.bucket == first_bucket and time.monotonic() > deadline:
            break  # only at the start of a cycle, so a remove is always followed by its add
        acc = buckets.setdefault(req.bucket, _Accumulator())
        sent[req.bucket] = sent.get(req.bucket, 0) + 1
        now = probe.cpu_ns()
        if pending is not None and mark is not None and now is not None:
            pending.cpu_ns += now - mark
        mark, pending = now, acc
        _send(client, req, acc, on_reply)
    end = probe.settle()
    if pending is not None and mark is not None and end is not None:
        pending.cpu_ns += end - mark
    _charge_meters(buckets, sent, before, probe.read_meters())
    return _results(buckets, probe)


def run_concurrent(
    client: ScimClient,
    probe: ServerProbe,
    requests: list[Request],
    on_reply: Callable[[Request, Reply], None] | None,
    buckets: dict[str, _Accumulator],
) -> dict[str, ScenarioResult]:
    """Send ``requests`` over ``client`` and its siblings at once, one thread per connection.

    Each connection takes the next request when its previous one is answered, so the server always
    has as many requests in hand as there are connections. The workers' CPU (and the meters) from
    the start until they are idle again is shared among the buckets by their operation counts:
    with requests overlapping, one request's CPU cannot be told from another's.
    """
    lock = threading.Lock()
    queue = iter(requests)
    sent: dict[str, int] = {}

    def worker(conn: ScimClient) -> None:
        while True:
            with lock:
                req = next(queue, None)
                if req is None:
                    return
                acc = buckets.setdefault(req.bucket, _Accumulator())
                sent[req.bucket] = sent.get(req.bucket, 0) + 1
            _send(conn, req, acc, on_reply, lock)

    start = probe.settle()
    before = probe.read_meters()
    threads = [threading.Thread(target=worker, args=(c,)) for c in (client, *client.siblings)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    end = probe.settle()
    after = probe.read_meters()
    total = sum(sent.values())
    if start is not None and end is not None and total:
        for name, ops in sent.items():
            buckets[name].cpu_ns += (end - start) * ops // total
    _charge_meters(buckets, sent, before, after)
    results = _results(buckets, probe)
    for result in results.values():
        result.extra["clients"] = 1 + len(client.siblings)
    return results


def _send(
    client: ScimClient,
    req: Request,
    acc: _Accumulator,
    on_reply: Callable[[Request, Reply], None] | None,
    lock: threading.Lock | None = None,
) -> None:
    """Send one request and record its latency and outcome in ``acc`` (under ``lock`` if given)."""
    start = time.perf_counter()
    try:
        reply = client.request(req.method, req.path, req.body, req.params)
    except (http.client.HTTPException, OSError) as error:
        reply = Reply(0, str(error).encode(), time.perf_counter() - start)
    wall = time.perf_counter() - start
    if lock is not None:
        lock.acquire()
    try:
        acc.seconds += wall
        acc.latencies.append(reply.seconds * 1000)
        if reply.status not in req.expect:
            acc.errors += 1
            if acc.first_error is None:
                acc.first_error = f"{req.method} {req.path} -> {reply.status}: {reply.body[:300]!r}"
        if on_reply is not None:
            on_reply(req, reply)
    finally:
        if lock is not None:
            lock.release()


def _charge_meters(
    buckets: dict[str, _Accumulator], sent: dict[str, int], before: dict[str, float], after: dict[str, float]
) -> None:
    """Share each meter's change over a stream among its buckets by their operation counts."""
    total = sum(sent.values())
    if not total:
        return
    for name, value in after.items():
        delta = value - before.get(name, 0.0)
        for bucket, ops in sent.items():
            acc = buckets[bucket]
            acc.meters[name] = acc.meters.get(name, 0.0) + delta * ops / total


def _results(buckets: dict[str, _Accumulator], probe: ServerProbe) -> dict[str, ScenarioResult]:
    """One result per bucket from what the accumulators hold."""
    results = {}
    for name, acc in buckets.items():
        ordered = sorted(acc.latencies)
        ops = len(ordered)
        extra: dict[str, Any] = {"loadavg_1m": round(os.getloadavg()[0], 2)}
        for meter, value in acc.meters.items():
            extra[f"{meter}_per_op"] = round(value / ops, 4) if ops else None
        results[name] = ScenarioResult(
            name=name,
            ops=ops,
            errors=acc.errors,
            seconds=round(acc.seconds, 4),
            ops_per_s=round(ops / acc.seconds, 1) if acc.seconds else 0.0,
            p50_ms=round(_percentile(ordered, 0.50), 3) if ops else None,
            p95_ms=round(_percentile(ordered, 0.95), 3) if ops else None,
            p99_ms=round(_percentile(ordered, 0.99), 3) if ops else None,
            mean_ms=round(statistics.fmean(ordered), 3) if ops else None,
            cpu_ms_per_op=round(acc.cpu_ns / 1e6 / ops, 3) if ops and probe.master_pid is not None else None,
            cpu_ns=acc.cpu_ns if probe.master_pid is not None else None,
            first_error=acc.first_error,
            extra=extra,
        )
    return results


def user_body(prefix: str, i: int) -> dict[str, Any]:
    """A typical IdP-provisioned user."""
    return {
        "schemas": [USER],
        "userName": f"{prefix}-user-{i:06d}",
        "externalId": f"{prefix}-ext-{i:06d}",
        "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"},
        "displayName": f"Bench User {i}",
        "emails": [{"value": f"{prefix}-user-{i:06d}@example.com", "type": "work", "primary": True}],
        "active": True,
    }


def group_body(prefix: str, g: int) -> dict[str, Any]:
    """A group as an IdP pushes it first: a name, members added later by PATCH."""
    return {"schemas": [GROUP], "displayName": f"{prefix}-group-{g:04d}"}


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    """A PatchOp body."""
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def add_members(ids: list[str]) -> dict[str, Any]:
    """PATCH body adding members (Okta's and Entra's form)."""
    return patch({"op": "add", "path": "members", "value": [{"value": i} for i in ids]})


def remove_member(user_id: str) -> dict[str, Any]:
    """PATCH body removing one member by a value filter (Okta's form)."""
    return patch({"op": "remove", "path": f'members[value eq "{user_id}"]'})


def remove_members(ids: list[str]) -> dict[str, Any]:
    """PATCH body removing several members by value list (Entra ID's form)."""
    return patch({"op": "remove", "path": "members", "value": [{"value": i} for i in ids]})


PATCH_OK = (200, 204)


@dataclass
class Workload:
    """Sizes of the standard (normal-mode) workload."""

    users: int = 1000
    groups: int = 20
    get_rounds: int = 2
    single_member_ops: int = 200
    full_group_reads: int = 30
    excluded_group_reads: int = 500
    page_walks: int = 3
    prefix: str = "bench"


def warm_up(client: ScimClient, prefix: str) -> None:
    """Exercise each code path once or twice so imports, caches and token checks are warm."""
    created = client.request("POST", "/Users", user_body(f"{prefix}-warm", 0))
    if created.status != 201:
        raise RuntimeError(f"warm-up POST /Users failed: {created.status} {created.body[:300]!r}")
    uid = created.json()["id"]
    group = client.request("POST", "/Groups", {"schemas": [GROUP], "displayName": f"{prefix}-warm-group"})
    gid = group.json()["id"] if group.status == 201 else None
    for _ in range(20):
        client.request("GET", f"/Users/{uid}")
        client.request("GET", "/Users", params={"filter": f'userName eq "{prefix}-warm-user-000000"'})
        client.request("GET", "/Users", params={"count": 10})
    for active in (False, True):
        client.request("PATCH", f"/Users/{uid}", patch({"op": "replace", "value": {"active": active}}))
    if gid:
        for _ in range(3):
            client.request("PATCH", f"/Groups/{gid}", add_members([uid]))
            client.request("PATCH", f"/Groups/{gid}", remove_member(uid))
            client.request("GET", f"/Groups/{gid}")
            client.request("GET", f"/Groups/{gid}", params={"excludedAttributes": "members"})
        client.request("DELETE", f"/Groups/{gid}")
    client.request("DELETE", f"/Users/{uid}")


def standard_workload(client: ScimClient, probe: ServerProbe, w: Workload) -> list[ScenarioResult]:
    """The normal-mode scenarios, in order; later ones reuse what earlier ones created."""
    return [result for step in standard_steps(client, probe, w) for result in step]


def keep_id(target: list[str]) -> Callable[[Request, Reply], None]:
    """An ``on_reply`` that appends the id of each created (201) resource to ``target``."""

    def store(_req: Request, reply: Reply) -> None:
        if reply.status == 201:
            target.append(reply.json()["id"])

    return store


def standard_steps(client: ScimClient, probe: ServerProbe, w: Workload) -> Iterator[list[ScenarioResult]]:
    """The normal-mode scenarios as steps: each ``next()`` runs one scenario (or a pair) and
    yields its results, so several targets can be driven in turn, step by step."""
    user_ids: list[str] = []
    group_ids: list[str] = []
    out: list[ScenarioResult] = []

    def step(
        requests: Iterable[Request],
        on_reply: Callable[[Request, Reply], None] | None = None,
        concurrent: bool = True,
    ) -> list[ScenarioResult]:
        results = list(run(client, probe, requests, on_reply, concurrent=concurrent).values())
        out.extend(results)
        return results

    def parts(
        requests: Iterable[Request], on_reply: Callable[[Request, Reply], None] | None = None
    ) -> Iterator[list[ScenarioResult]]:
        results = yield from in_parts(client, probe, list(requests), on_reply)
        out.extend(results)

    yield from parts(
        (
            Request("users.create", "POST", "/Users", user_body(w.prefix, i), expect=(201,))
            for i in range(w.users)
        ),
        keep_id(user_ids),
    )
    if not user_ids:
        return
    yield from parts(
        Request("users.get", "GET", f"/Users/{uid}") for _ in range(w.get_rounds) for uid in user_ids
    )
    yield from parts(
        Request(
            "users.filter_userName",
            "GET",
            "/Users",
            params={"filter": f'userName eq "{w.prefix}-user-{i:06d}"'},
        )
        for i in range(len(user_ids))
    )
    yield from parts(
        Request(
            "users.patch_active",
            "PATCH",
            f"/Users/{uid}",
            patch({"op": "replace", "path": "active", "value": a}),
            expect=PATCH_OK,
        )
        for a in (False, True)
        for uid in user_ids
    )
    yield step(
        (
            Request("groups.create", "POST", "/Groups", group_body(w.prefix, g), expect=(201,))
            for g in range(w.groups)
        ),
        keep_id(group_ids),
    )
    if not group_ids:
        return
    big = group_ids[0]
    batches = [user_ids[i : i + 100] for i in range(0, len(user_ids), 100)]
    adds = [
        Request("groups.add_100_members", "PATCH", f"/Groups/{big}", add_members(b), expect=PATCH_OK)
        for b in batches
    ]
    adds += [
        Request(
            "groups.add_100_members",
            "PATCH",
            f"/Groups/{gid}",
            add_members(batches[g % len(batches)]),
            expect=PATCH_OK,
        )
        for g, gid in enumerate(group_ids[1:], start=1)
    ]
    yield step(adds)
    singles = user_ids[: w.single_member_ops]
    yield step(
        (
            Request(bucket, "PATCH", f"/Groups/{big}", body, expect=PATCH_OK)
            for uid in singles
            for bucket, body in (
                ("group.remove_one_member", remove_member(uid)),
                ("group.add_one_member", add_members([uid])),
            )
        ),
        concurrent=False,  # each remove is followed by its add, and measured apart from it
    )
    yield step(Request("group.get_full", "GET", f"/Groups/{big}") for _ in range(w.full_group_reads))
    yield step(
        Request(
            "group.get_excluded_members", "GET", f"/Groups/{big}", params={"excludedAttributes": "members"}
        )
        for _ in range(w.excluded_group_reads)
    )
    yield step(
        Request("users.page_100", "GET", "/Users", params={"startIndex": start, "count": 100})
        for _ in range(w.page_walks)
        for start in range(1, len(user_ids) + 1, 100)
    )
    yield step(Request("groups.delete", "DELETE", f"/Groups/{gid}", expect=(204,)) for gid in group_ids)
    yield step(Request("users.delete", "DELETE", f"/Users/{uid}", expect=(204,)) for uid in user_ids)
    for result in out:
        if result.name.startswith("group."):
            result.extra["group_size"] = len(user_ids)


def floor_workload(
    client: ScimClient, probe: ServerProbe, ids: list[str], rounds: int
) -> list[ScenarioResult]:
    """The floor's one scenario: GET /Users/<id> for every seeded id, ``rounds`` times."""
    return [result for step in floor_steps(client, probe, ids, rounds) for result in step]


def floor_steps(
    client: ScimClient, probe: ServerProbe, ids: list[str], rounds: int
) -> Iterator[list[ScenarioResult]]:
    """The floor's scenario as steps aligned with :func:`standard_steps`: its GET by id comes
    after the others' user creation, in as many parts."""
    for _ in range(INTERLEAVE_PARTS):  # while the others create their users
        yield []
    for uid in ids[:50]:
        client.request("GET", f"/Users/{uid}")
    requests = [Request("users.get", "GET", f"/Users/{uid}") for _ in range(rounds) for uid in ids]
    yield from in_parts(client, probe, requests)


def in_parts(
    client: ScimClient,
    probe: ServerProbe,
    requests: list[Request],
    on_reply: Callable[[Request, Reply], None] | None = None,
) -> Generator[list[ScenarioResult], None, list[ScenarioResult]]:
    """Send a scenario in ``INTERLEAVE_PARTS`` parts, yielding after each, so the orchestrator can
    drive the other targets in between (floor, peer and scimgate then take turns every few hundred
    requests, and a drift of the machine's speed hits all three alike). The last part yields the
    results of all parts, and they are also the generator's return value."""
    buckets: dict[str, _Accumulator] = {}
    size = max(1, -(-len(requests) // INTERLEAVE_PARTS))
    results: list[ScenarioResult] = []
    for first in range(0, max(len(requests), 1), size):
        results = list(
            run(
                client, probe, requests[first : first + size], on_reply, buckets=buckets, concurrent=True
            ).values()
        )
        if first + size < len(requests):
            yield []
    yield results
    return results


# --------------------------------------------------------------------------------------------
# Initial sync
# --------------------------------------------------------------------------------------------


@dataclass
class InitialSync:
    """The first sync of a directory as Entra ID and Okta run it: create every user, create the
    groups and fill them in batches of 100 members with PATCH, then read everything back in pages."""

    users: int = 10_000
    groups: int = 200
    group_size: int = 500  # members per group, added in PATCHes of ``batch`` members
    batch: int = 100
    user_page: int = 100
    group_page: int = 20
    prefix: str = "sync"


def initial_sync_steps(
    client: ScimClient, probe: ServerProbe, s: InitialSync
) -> Iterator[list[ScenarioResult]]:
    """The initial sync's phases as steps (one per ``next()``) so several targets take turns.

    Each phase is one scenario (sent over every connection of ``client`` at once, see
    :func:`run_concurrent`); its ``extra["wall_s"]`` is the phase's wall time.
    """
    user_ids: list[str] = []
    group_ids: list[str] = []

    def phase(
        requests: list[Request], on_reply: Callable[[Request, Reply], None] | None = None
    ) -> list[ScenarioResult]:
        started = time.monotonic()
        results = list(run(client, probe, requests, on_reply, max_seconds=3600, concurrent=True).values())
        for result in results:
            result.extra["wall_s"] = round(time.monotonic() - started, 2)
        return results

    yield phase(
        [
            Request("sync.create_users", "POST", "/Users", user_body(s.prefix, i), expect=(201,))
            for i in range(s.users)
        ],
        keep_id(user_ids),
    )
    yield phase(
        [
            Request("sync.create_groups", "POST", "/Groups", group_body(s.prefix, g), expect=(201,))
            for g in range(s.groups)
        ],
        keep_id(group_ids),
    )
    if not user_ids or not group_ids:
        return
    adds = []
    for g, gid in enumerate(group_ids):
        first = (g * s.group_size) % len(user_ids)
        members = [user_ids[(first + k) % len(user_ids)] for k in range(min(s.group_size, len(user_ids)))]
        adds += [
            Request(
                "sync.add_members_100",
                "PATCH",
                f"/Groups/{gid}",
                add_members(members[i : i + s.batch]),
                expect=PATCH_OK,
            )
            for i in range(0, len(members), s.batch)
        ]
    # Batch k of every group before batch k+1 of any: concurrent clients then work on different groups.
    per_group = -(-min(s.group_size, len(user_ids)) // s.batch)
    adds = [adds[g * per_group + k] for k in range(per_group) for g in range(len(group_ids))]
    yield phase(adds)
    yield phase(
        [
            Request(
                "sync.read_users_paged", "GET", "/Users", params={"startIndex": start, "count": s.user_page}
            )
            for start in range(1, len(user_ids) + 1, s.user_page)
        ]
    )
    yield phase(
        [
            Request(
                "sync.read_groups_paged",
                "GET",
                "/Groups",
                params={"startIndex": start, "count": s.group_page},
            )
            for start in range(1, len(group_ids) + 1, s.group_page)
        ]
    )


# --------------------------------------------------------------------------------------------
# Scale mode
# --------------------------------------------------------------------------------------------


@dataclass
class ScaleWorkload:
    """Repetitions of the scale-mode scenarios (the data is seeded beforehand)."""

    excluded_reads: int = 300
    single_member_ops: int = 150
    batch_ops: int = 20
    page_ops: int = 100
    point_ops: int = 500
    full_reads: dict[int, int] = field(default_factory=lambda: {100: 100, 10_000: 10, 100_000: 3})
    prefix: str = "scale"
    max_seconds: float = 120


def cursor_supported(client: ScimClient) -> bool:
    """True when a list request with ``cursor`` answers a ``nextCursor`` (RFC 9865)."""
    reply = client.request("GET", "/Users", params={"count": 2, "cursor": ""})
    return reply.status == 200 and "nextCursor" in (reply.json() or {})


def scale_workload(
    client: ScimClient, probe: ServerProbe, user_ids: list[str], groups: dict[int, str], s: ScaleWorkload
) -> list[ScenarioResult]:
    """Member changes, reads and pages on seeded big groups and a big directory.

    Group ``groups[size]`` holds the first ``size`` of ``user_ids`` as members.
    """
    out: list[ScenarioResult] = []
    for size, gid in sorted(groups.items()):
        url = f"/Groups/{gid}"
        singles = user_ids[: min(size, s.single_member_ops)]
        batches = [user_ids[i : i + 100] for i in range(0, min(size, 100 * s.batch_ops), 100)]
        excluded = (
            Request(
                f"group.get_excluded_members[{size}]", "GET", url, params={"excludedAttributes": "members"}
            )
            for _ in range(s.excluded_reads)
        )
        one = (
            Request(f"group.{verb}_one_member[{size}]", "PATCH", url, body, expect=PATCH_OK)
            for uid in singles
            for verb, body in (("remove", remove_member(uid)), ("add", add_members([uid])))
        )
        hundred = (
            Request(f"group.{verb}_100_members[{size}]", "PATCH", url, body, expect=PATCH_OK)
            for r in range(s.batch_ops)
            for verb, body in (
                ("remove", remove_members(batches[r % len(batches)])),
                ("add", add_members(batches[r % len(batches)])),
            )
        )
        for stream in (excluded, one, hundred):
            out.extend(run(client, probe, stream, max_seconds=s.max_seconds).values())
        out.append(full_group_read(client, probe, gid, size, s.full_reads.get(size, 3)))
    total = len(user_ids)
    last = max(1, total - 99)
    pages = [
        Request(bucket, "GET", "/Users", params={"startIndex": start, "count": 100})
        for _ in range(s.page_ops)
        for bucket, start in (("users.page_first", 1), ("users.page_last", last))
    ]
    results = run(client, probe, pages, max_seconds=s.max_seconds)
    for name in results:
        results[name].extra["startIndex"] = 1 if name == "users.page_first" else last
    out.extend(results.values())
    if cursor_supported(client):
        out.extend(cursor_walk(client, probe, total))
    step = max(1, total // s.point_ops)
    picks = user_ids[::step][: s.point_ops]
    out.extend(run(client, probe, (Request("users.get", "GET", f"/Users/{u}") for u in picks)).values())
    index = {u: i for i, u in enumerate(user_ids)}
    out.extend(
        run(
            client,
            probe,
            (
                Request(
                    "users.filter_userName",
                    "GET",
                    "/Users",
                    params={"filter": f'userName eq "{s.prefix}-user-{index[u]:06d}"'},
                )
                for u in picks
            ),
        ).values()
    )
    for result in out:
        result.extra.setdefault("directory_size", total)
    return out


def full_group_read(
    client: ScimClient, probe: ServerProbe, gid: str, size: int, reads: int
) -> ScenarioResult:
    """GET a group with all its members; also the worker's peak RSS during the reads."""
    baseline = probe.rss_kb()
    reset = probe.reset_peak()
    sizes: list[int] = []
    members: list[int] = []

    def record(_req: Request, reply: Reply) -> None:
        sizes.append(len(reply.body))
        if reply.status == 200:
            members.append(len((reply.json() or {}).get("members", [])))

    result = run(
        client,
        probe,
        (Request(f"group.get_full[{size}]", "GET", f"/Groups/{gid}") for _ in range(reads)),
        record,
    )
    item = next(iter(result.values()))
    item.extra.update(
        {
            "rss_before_kb": baseline,
            "peak_rss_kb": probe.peak_rss_kb() if reset else None,
            "peak_reset": reset,
            "response_bytes": max(sizes, default=0),
            "members_returned": max(members, default=0),
        }
    )
    return item


def cursor_walk(
    client: ScimClient, probe: ServerProbe, total: int, max_seconds: float = 300
) -> list[ScenarioResult]:
    """Walk every page of users with cursor pagination (RFC 9865); the first and last 50 pages apart."""
    state: dict[str, Any] = {"cursor": "", "done": False}

    def remember(_req: Request, reply: Reply) -> None:
        body = reply.json() if reply.status == 200 else None
        nxt = (body or {}).get("nextCursor")
        state["cursor"] = nxt
        state["done"] = not nxt

    def pages() -> Iterator[Request]:
        page_count = (total + 99) // 100
        edge = min(50, page_count // 2)
        deadline = time.monotonic() + max_seconds
        for n in range(page_count + 5):
            if state["done"] or time.monotonic() > deadline:
                return
            if n < edge:
                bucket = "users.page_cursor_first"
            elif n >= page_count - edge:
                bucket = "users.page_cursor_last"
            else:
                bucket = "users.page_cursor_middle"
            yield Request(bucket, "GET", "/Users", params={"count": 100, "cursor": state["cursor"]})

    return list(run(client, probe, pages(), remember).values())


# --------------------------------------------------------------------------------------------
# Standalone command
# --------------------------------------------------------------------------------------------


def fmt_ms(value: float | None) -> str:
    """Milliseconds for a table cell."""
    return "-" if value is None else f"{value:.2f}"


def print_results(results: list[ScenarioResult], out: Any = sys.stdout) -> None:
    """A plain table of results."""
    heads = ("ops", "err", "ops/s", "p50", "p95", "p99", "cpu ms/op")
    print(f"{'scenario':34} " + " ".join(f"{h:>8}" for h in heads), file=out)
    for r in results:
        cpu = "-" if r.cpu_ms_per_op is None else f"{r.cpu_ms_per_op:.3f}"
        cells = (
            f"{r.ops}",
            f"{r.errors}",
            f"{r.ops_per_s:.1f}",
            *(fmt_ms(v) for v in (r.p50_ms, r.p95_ms, r.p99_ms)),
        )
        print(f"{r.name:34} " + " ".join(f"{c:>8}" for c in (*cells, cpu)), file=out)
        if r.first_error:
            print(f"    first error: {r.first_error}", file=out)


def main(argv: list[str] | None = None) -> int:
    """Run the standard workload against one SCIM base URL."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", required=True, help="SCIM base URL, e.g. http://127.0.0.1:8000/scim/v2")
    parser.add_argument("--auth", required=True, help='Authorization header value, e.g. "Bearer <token>"')
    parser.add_argument("--server-pid", type=int, help="gunicorn master pid (its children are measured)")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--prefix", default=f"drv{os.getpid()}", help="userName/displayName prefix")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    client = ScimClient(args.base_url, {"Authorization": args.auth})
    probe = ServerProbe(args.server_pid)
    try:
        warm_up(client, args.prefix)
        results = standard_workload(
            client, probe, Workload(users=args.users, groups=args.groups, prefix=args.prefix)
        )
    finally:
        client.close()
    print_results(results)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([r.as_dict() for r in results], handle, indent=2)
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
