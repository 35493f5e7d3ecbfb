"""A real Prometheus scrapes a four-worker gunicorn scimgate and reads back exactly the traffic sent.

Each request opens its own connection, so gunicorn spreads them over its workers; every worker
counts into its own file under ``PROMETHEUS_MULTIPROC_DIR`` and whichever worker answers a scrape
merges them all. Prometheus' HTTP API (``/api/v1/query``) must then show the exact totals: a
count kept per worker, or a worker's counts lost, would read differently.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scimgate.scim import urns
from tests.support.gunicorn_server import fresh_database, gunicorn
from tests.support.prometheus import prometheus
from tests.support.scim import DATA_DIR

pytestmark = pytest.mark.slow

WORKERS = 4
USERS = 6
READS_PER_USER = 3
WRONG_TOKEN_REQUESTS = 5


def call(
    url: str, method: str = "GET", token: str | None = None, body: dict | None = None
) -> tuple[int, dict]:
    """One request on a connection of its own: its status and JSON body."""
    headers = {"Content-Type": "application/scim+json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, {}


def test_prometheus_reads_exact_counts_across_workers(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    multiproc = tmp_path / "metrics"
    multiproc.mkdir()
    (multiproc / "counter_1.db").write_bytes(b"left by an earlier run")  # the server must clear it
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(multiproc))
    with fresh_database(database_url, tmp_path) as url, gunicorn(url, tmp_path, workers=WORKERS) as server:
        for step in (
            ("saml", "configure", "--idp-metadata", str(DATA_DIR / "idp-metadata.xml")),
            ("saml", "enable"),
            ("scim", "set-client", "okta"),
        ):
            assert server.cli(*step).returncode == 0
        generated = server.cli("scim", "generate-token", "--months", "1")
        assert generated.returncode == 0, generated.stderr
        token = generated.stdout.strip().splitlines()[-1]
        assert server.cli("scim", "enable").returncode == 0

        scim = f"{server.url}/scim/v2"
        created = []
        for n in range(USERS):
            body = {"schemas": [urns.USER], "userName": f"prom.user{n}@example.com"}
            status, user = call(f"{scim}/Users", "POST", token, body)
            assert status == 201
            created.append(user["id"])
        for scim_id in created:
            for _ in range(READS_PER_USER):
                assert call(f"{scim}/Users/{scim_id}", token=token)[0] == 200
        for _ in range(WRONG_TOKEN_REQUESTS):
            assert call(f"{scim}/Users", token="not-the-token")[0] == 401
        counting_workers = [path.name for path in multiproc.glob("counter_*.db")]
        assert len(counting_workers) >= 2, counting_workers  # the traffic was spread over workers

        with prometheus(urlsplit(server.url).netloc, tmp_path) as prom:
            job = '{job="scimgate"}'
            assert prom.wait_for(f"up{job}", 1) == 1, (tmp_path / "prometheus.log").read_text()
            requests = "sum(scimgate_scim_requests_total{{client='okta',resource='Users',{}}})"
            reads = USERS * READS_PER_USER
            assert prom.wait_for(requests.format("method='POST',status='201'"), USERS) == USERS
            assert prom.wait_for(requests.format("method='GET',status='200'"), reads) == reads
            failed = WRONG_TOKEN_REQUESTS
            assert prom.wait_for(requests.format("method='GET',status='401'"), failed) == failed
            assert prom.value("sum(scimgate_scim_auth_failures_total)") == failed
            latency = "sum(scimgate_scim_request_duration_seconds_count{resource='Users',method='GET'})"
            assert prom.value(latency) == reads + failed
            assert prom.value("scimgate_scim_sync_enabled{client='okta'}") == 1
            expiry = prom.value("scimgate_scim_token_expiry_timestamp_seconds")
            ahead = prom.value("scimgate_scim_token_expiry_timestamp_seconds - time()")
            assert expiry is not None and ahead is not None and 25 * 86400 < ahead < 32 * 86400
            # The alert of docs/deployment.md: the token expires within 14 days (not yet).
            assert prom.query("scimgate_scim_token_expiry_timestamp_seconds - time() < 14 * 86400") == []
            # Nothing from an earlier run was counted, and no other status appeared.
            assert prom.value("sum(scimgate_scim_requests_total)") == USERS + reads + failed
