"""The Prometheus metrics every layer counts into, defined once, importing only ``prometheus_client``.

It sits in the storage layer so that ``db.transactions`` (serialization retries) and the edges
(requests, refusals, database faults) can all reach it without an upward import; what reads the
configuration at scrape time (token expiry, sync switch) lives with the ``/metrics`` route in
``scimgate.health``.

Under several gunicorn workers, ``prometheus_client``'s multiprocess mode keeps each worker's
values in memory-mapped files under ``$PROMETHEUS_MULTIPROC_DIR`` (chosen when
``prometheus_client`` is first imported, so the variable must be set before the workers start);
the scrape merges them (``exposition``). Without the variable the values live in this process.

Per request this costs one dictionary look-up per metric and an increment (a few microseconds):
the labelled children are kept in plain dictionaries, because ``labels()`` validates its
arguments and takes a lock on every call. Every label takes its value from a short fixed list
(``RESOURCES``, ``METHODS``) or from the configuration, so no request can create a new series.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
SCIM_PREFIX = "/scim/v2/"
# The first path segment under /scim/v2, lower-cased, to the label it is counted under.
RESOURCES = {
    name.lower(): name
    for name in (
        "Users",
        "Groups",
        ".search",
        "ServiceProviderConfig",
        "Schemas",
        "ResourceTypes",
        "Bulk",
        "Me",
    )
}
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# SCIM requests take a few milliseconds; a slow database or a 100k-member group takes seconds.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REGISTRY = CollectorRegistry(auto_describe=True)
"""scimgate's own metrics (not ``prometheus_client``'s global registry, which a host process may share)."""

SCIM_REQUESTS = Counter(
    "scimgate_scim_requests",
    "SCIM requests answered, by active client, resource, method and status.",
    ("client", "resource", "method", "status"),
    registry=REGISTRY,
)
SCIM_LATENCY = Histogram(
    "scimgate_scim_request_duration_seconds",
    "Time from the start of a SCIM request to its response, by resource and method.",
    ("resource", "method"),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
AUTH_FAILURES = Counter(
    "scimgate_scim_auth_failures",
    "SCIM requests refused for missing or wrong credentials (401, or the 429 that a failure triggered).",
    ("client",),
    registry=REGISTRY,
)
THROTTLED = Counter(
    "scimgate_scim_throttled",
    "SCIM requests answered 429: after too many authentication failures from one address "
    "(reason auth_failures) or over the per-credential rate limit (reason rate_limit).",
    ("reason",),
    registry=REGISTRY,
)
SERIALIZATION_RETRIES = Counter(
    "scimgate_db_serialization_retries",
    "Transactions run again after a deadlock or serialization failure, by SQLSTATE.",
    ("sqlstate",),
    registry=REGISTRY,
)
DB_ERRORS = Counter(
    "scimgate_db_errors",
    "Requests answered 503/507 because of the database's state "
    "(database_unavailable, database_busy, disk_full).",
    ("kind",),
    registry=REGISTRY,
)

_requests: dict[tuple[str, str, str, int], Counter] = {}
_latency: dict[tuple[str, str], Histogram] = {}
_auth_failures: dict[str, Counter] = {}


def resource_of(path: str) -> str:
    """The resource label of a /scim/v2 path: ``Users``, ``Groups``, ... or ``other``."""
    segment = path[len(SCIM_PREFIX) :].split("/", 1)[0] if path.startswith(SCIM_PREFIX) else ""
    return RESOURCES.get(segment.lower(), "other")


def observe_request(client: str, path: str, method: str, status: int, seconds: float) -> None:
    """Count one answered SCIM request and its latency."""
    resource = resource_of(path)
    if method not in METHODS:
        method = "other"
    key = (client, resource, method, status)
    counter = _requests.get(key)
    if counter is None:
        counter = _requests[key] = SCIM_REQUESTS.labels(client, resource, method, str(status))
    counter.inc()
    histogram = _latency.get(key[1:3])
    if histogram is None:
        histogram = _latency[key[1:3]] = SCIM_LATENCY.labels(resource, method)
    histogram.observe(seconds)


def count_auth_failure(client: str) -> None:
    """Count one SCIM request refused for its credentials."""
    counter = _auth_failures.get(client)
    if counter is None:
        counter = _auth_failures[client] = AUTH_FAILURES.labels(client)
    counter.inc()


def count_throttled(reason: str) -> None:
    """Count one SCIM request answered 429 (``auth_failures`` or ``rate_limit``)."""
    THROTTLED.labels(reason).inc()


def count_serialization_retry(sqlstate: str) -> None:
    """Count one transaction run again after a transient conflict."""
    SERIALIZATION_RETRIES.labels(sqlstate).inc()


def count_db_error(kind: str) -> None:
    """Count one request answered 503/507 for the database's state."""
    DB_ERRORS.labels(kind).inc()


def is_multiprocess() -> bool:
    """True when the values live in ``$PROMETHEUS_MULTIPROC_DIR`` (several workers)."""
    return bool(os.environ.get(MULTIPROCESS_ENV))


def exposition() -> bytes:
    """Every worker's metrics in the Prometheus text format (this process's without multiprocess)."""
    if not is_multiprocess():
        return generate_latest(REGISTRY)
    merged = CollectorRegistry()
    MultiProcessCollector(merged)
    return generate_latest(merged)
