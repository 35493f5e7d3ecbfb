"""What an operator's tools read: ``/healthz`` (the process answers), ``/readyz`` (the database
answers and its schema is at the migrations' head) and ``/metrics`` (Prometheus).

The two probes are unauthenticated for load balancers and reveal nothing else. ``/metrics``
answers only loopback addresses, the ``METRICS_ALLOW`` networks, and a scraper presenting the
``METRICS_TOKEN`` Bearer token (its own secret, compared in constant time; a SCIM credential does
not open it). The address is the one the app sees after ``PROXY_FIX_X_FOR``: with the proxy
count right, a client's own ``X-Forwarded-For`` never replaces it. A refusal is 403 (or 401 when
a token could help) with a one-line reason and no metric.

The counters live in ``scimgate.db.metrics`` (reachable by the storage layer's retry loop); the
configuration's gauges (token expiry, sync switch) are read when Prometheus scrapes, so every
worker answers the same, and this module counts each SCIM request once it has its response.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from scimgate.conf import token_expiry
from scimgate.conf.scim import check_if_scim_sync_is_enabled, get_scim_client
from scimgate.db import metrics
from scimgate.db.request_state import ScimgateRequest, current_request
from scimgate.extensions import db, migrate

_ACCESS_KEY = "scimgate_metrics_access"
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_SEPARATORS = re.compile(r"[\s,]+")
METRICS_REALM = "scimgate metrics"
METRICS_TOKEN_MIN_LENGTH = 24  # anyone who can reach the port may guess: no short passwords
# The text format every Prometheus reads (names here are plain ASCII, so 1.0.0 would add nothing).
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FORBIDDEN_DETAIL = (
    "/metrics answers only loopback addresses and those in SCIMGATE_METRICS_ALLOW; "
    "a scraper elsewhere needs SCIMGATE_METRICS_TOKEN.\n"
)
UNAUTHORIZED_DETAIL = "/metrics needs the metrics Bearer token (SCIMGATE_METRICS_TOKEN) from this address.\n"


@functools.cache
def migration_heads(directory: str) -> frozenset[str]:
    """The head revisions of the migration scripts shipped with this build."""
    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def healthz() -> Response:
    """Always 200 while the process can answer."""
    return jsonify(status="ok")


def readyz() -> tuple[Response, int]:
    """200 when the database is reachable and migrated to head, 503 otherwise."""
    try:
        current = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("readyz: database unreachable or not initialised")
        return jsonify(status="unavailable"), 503
    finally:
        db.session.remove()
    if current != set(migration_heads(migrate.directory)):  # the folder create_app gave Flask-Migrate
        return jsonify(status="migrations pending"), 503
    return jsonify(status="ready"), 200


@dataclass(frozen=True)
class MetricsAccess:
    """Who may read ``/metrics``: networks (loopback first) and the digest of the scrapers' token."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    token_digest: bytes | None

    @classmethod
    def from_config(cls, allow: str, token: str) -> MetricsAccess:
        """Parse ``METRICS_ALLOW``; a wrong entry or a short token stops the app at start-up."""
        networks = list(LOOPBACK)
        for entry in filter(None, _SEPARATORS.split(allow.strip())):
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(
                    f"SCIMGATE_METRICS_ALLOW: {entry!r} is neither an address nor a network"
                ) from None
        if token and len(token) < METRICS_TOKEN_MIN_LENGTH:
            raise ValueError(
                f"SCIMGATE_METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} characters "
                "(a random secret of its own, e.g. secrets.token_urlsafe(32))"
            )
        return cls(tuple(networks), _digest(token) if token else None)

    def allows_address(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:  # no address (a Unix socket) or not one
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)

    def allows_token(self, authorization: str) -> bool:
        """True for ``Bearer <the metrics token>``: the digests are compared in constant time."""
        scheme, _, presented = authorization.strip().partition(" ")
        if self.token_digest is None or scheme.lower() != "bearer" or not presented.strip():
            return False
        return hmac.compare_digest(_digest(presented.strip()), self.token_digest)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


def _refused(status: int, detail: str) -> Response:
    response = Response(detail, status=status, mimetype="text/plain")
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer realm="{METRICS_REALM}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def metrics_view() -> Response:
    """Every worker's metrics and the configuration's gauges, to an allowed scraper only."""
    access: MetricsAccess = current_app.extensions[_ACCESS_KEY]
    if not access.allows_address(request.remote_addr):
        if access.token_digest is None:
            current_app.logger.warning("metrics: refused %s (not an allowed address)", request.remote_addr)
            return _refused(403, FORBIDDEN_DETAIL)
        if not access.allows_token(request.headers.get("Authorization", "")):
            current_app.logger.warning("metrics: refused %s (no valid metrics token)", request.remote_addr)
            return _refused(401, UNAUTHORIZED_DETAIL)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ConfigurationCollector())
    body = metrics.exposition() + generate_latest(registry)
    response = Response(body, status=200, content_type=METRICS_CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


class ConfigurationCollector(Collector):
    """The gauges read from the configuration when Prometheus scrapes (the same in every worker)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            client = get_scim_client()
            enabled = check_if_scim_sync_is_enabled()
            expiry = token_expiry.current()
        except sa.exc.SQLAlchemyError:  # the counters are most wanted when the database is down
            db.session.rollback()
            readable = False
        else:
            readable = True
        yield GaugeMetricFamily(
            "scimgate_configuration_readable",
            "1 when /metrics could read the configuration.",
            value=1 if readable else 0,
        )
        if not readable:
            return
        sync = GaugeMetricFamily(
            "scimgate_scim_sync_enabled",
            "1 when /scim/v2 accepts requests, for the active client.",
            labels=["client"],
        )
        sync.add_metric([client], 1 if enabled else 0)
        yield sync
        if expiry is not None:  # no gauge without a token that expires (an alert needs no special case)
            yield GaugeMetricFamily(
                "scimgate_scim_token_expiry_timestamp_seconds",
                "When the SCIM bearer token expires (Unix time).",
                value=expiry.expires.replace(tzinfo=dt.UTC).timestamp(),
            )


def observe_scim_request(response: Response) -> Response:
    """Count a /scim/v2 request with its response: client, resource, method, status, latency, and
    whether it was refused for its credentials or throttled (read from the request's state).

    Runs on every request, so the request object is looked up once (``bench/inproc.py``: a few
    microseconds a request in all)."""
    current = current_request()
    if not isinstance(current, ScimgateRequest):
        return response
    state = current.state
    if not state.is_scim:
        return response
    try:
        client = get_scim_client()
    except Exception:  # counting must never turn a response into an error (the database is down)
        client = "unknown"
    status = response.status_code
    started = state.started_at
    seconds = time.perf_counter() - started if started is not None else 0.0
    metrics.observe_request(client, current.path, current.method, status, seconds)
    if state.auth_reason is not None:
        metrics.count_auth_failure(client)
    if status == 429:
        metrics.count_throttled("rate_limit" if state.principal else "auth_failures")
    return response


def init_app(app: Flask) -> None:
    """Register the two probes, ``/metrics`` and the per-request count."""
    app.extensions[_ACCESS_KEY] = MetricsAccess.from_config(
        str(app.config.get("METRICS_ALLOW") or ""), str(app.config.get("METRICS_TOKEN") or "")
    )
    bp = Blueprint("health", __name__)
    bp.add_url_rule("/healthz", "healthz", healthz)
    bp.add_url_rule("/readyz", "readyz", readyz)
    bp.add_url_rule("/metrics", "metrics", metrics_view)
    app.register_blueprint(bp)
    app.after_request(observe_scim_request)
