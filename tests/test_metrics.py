"""``/metrics``: the counters move with known SCIM traffic, and only allowed scrapers read them.

Every request goes through the app over HTTP (Flask's test client, whose ``REMOTE_ADDR`` is the
loopback address unless a test says otherwise). The counters are the process's own (no
``PROMETHEUS_MULTIPROC_DIR`` here), shared by every app the suite builds, so each test compares
a scrape after its traffic with one before it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from scimgate import configuration_utils, create_app
from scimgate.conf import token_expiry
from scimgate.db.transactions import retry_transaction
from scimgate.scim import urns
from scimgate.scim.errors import ScimError
from scimgate.web.session_interface import is_sessionless
from tests.support.scim import ScimClient

OUTSIDE = "203.0.113.5"  # TEST-NET-3: an address that is not loopback
METRICS_TOKEN = "metrics-scraper-token-0123456789abcdef"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: FlaskClient, **kwargs: object) -> Samples:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.text
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def requests(resource: str, method: str, status: int, client: str = "okta") -> dict[str, str]:
    return {"client": client, "resource": resource, "method": method, "status": str(status)}


def other_app(app: Flask, log_dir: Path, **overrides: object) -> Flask:
    """A second app on the suite's database (and PostgreSQL schema) with its own /metrics settings."""
    database = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS")}
    return create_app("testing", overrides={**database, "LOG_DIR": str(log_dir), **overrides})


def assert_refused(response, status: int) -> None:  # type: ignore[no-untyped-def]
    """A refusal says why in one line and carries no metric."""
    assert response.status_code == status
    assert response.content_type.startswith("text/plain")
    assert "SCIMGATE_METRICS" in response.text
    assert "scimgate_" not in response.text and "# HELP" not in response.text


def test_counters_follow_known_scim_traffic(client: FlaskClient, scim: ScimClient) -> None:
    before = scrape(client)
    created = scim.post("/Users", json={"schemas": [urns.USER], "userName": "metrics.alice@example.com"})
    assert created.status_code == 201, created.text
    assert scim.get(f"/Users/{created.get_json()['id']}").status_code == 200
    assert scim.get("/Users/no-such-id").status_code == 404
    assert scim.get("/groups").status_code == 200  # any case of the path counts under its resource
    assert client.get("/scim/v2/Users", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/healthz").status_code == 200
    after = scrape(client)

    total = "scimgate_scim_requests_total"
    assert delta(before, after, total, **requests("Users", "POST", 201)) == 1
    assert delta(before, after, total, **requests("Users", "GET", 200)) == 1
    assert delta(before, after, total, **requests("Users", "GET", 404)) == 1
    assert delta(before, after, total, **requests("Groups", "GET", 200)) == 1
    assert delta(before, after, total, **requests("Users", "GET", 401)) == 1
    assert delta(before, after, "scimgate_scim_auth_failures_total", client="okta") == 1
    latency = "scimgate_scim_request_duration_seconds"
    assert delta(before, after, f"{latency}_count", resource="Users", method="GET") == 3
    assert delta(before, after, f"{latency}_bucket", resource="Users", method="GET", le="+Inf") == 3
    assert delta(before, after, f"{latency}_sum", resource="Users", method="GET") > 0
    assert delta(before, after, f"{latency}_count", resource="Users", method="POST") == 1
    # /metrics and the probes are not SCIM requests: no series of any resource moved but these.
    # (The registry is the process's: other tests' requests stay in it, so compare, not count.)
    counted = {"Users", "Groups"}
    moved = [key for key, v in after.items() if v != before.get(key, 0.0) and dict(key[1]).get("resource")]
    assert all(dict(labels)["resource"] in counted for (_, labels) in moved), moved


def test_the_configuration_gauges_are_read_at_scrape_time(
    app: Flask, client: FlaskClient, scim: ScimClient
) -> None:
    samples = scrape(client)
    assert value(samples, "scimgate_scim_sync_enabled", client="okta") == 1
    assert value(samples, "scimgate_configuration_readable") == 1
    with app.app_context():
        expiry = token_expiry.current()
    assert expiry is not None
    expected = expiry.expires.replace(tzinfo=dt.UTC).timestamp()
    assert value(samples, "scimgate_scim_token_expiry_timestamp_seconds") == pytest.approx(expected)
    assert expected > dt.datetime.now(dt.UTC).timestamp() + 100 * 86400  # a six-month token

    with app.test_request_context():
        configuration_utils.disable_sync_from_directory_provider()
    assert value(scrape(client), "scimgate_scim_sync_enabled", client="okta") == 0


def test_failed_authentications_then_throttling_are_counted(
    app: Flask, client: FlaskClient, scim: ScimClient
) -> None:
    before = scrape(client)
    limit = app.config["AUTH_FAILURE_LIMIT"]
    statuses = [
        client.get(
            "/scim/v2/Users", headers={"Authorization": "Bearer guess"}, environ_base={"REMOTE_ADDR": OUTSIDE}
        ).status_code
        for _ in range(limit + 1)
    ]
    assert statuses == [401] * (limit - 1) + [429, 429]
    after = scrape(client)
    assert delta(before, after, "scimgate_scim_throttled_total", reason="auth_failures") == 2
    assert delta(before, after, "scimgate_scim_auth_failures_total", client="okta") == limit + 1
    assert delta(before, after, "scimgate_scim_requests_total", **requests("Users", "GET", 429)) == 2


def test_database_errors_are_counted_and_metrics_still_answer(tmp_path: Path) -> None:
    broken = create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "LOG_DIR": str(tmp_path),
        },
    )
    client = broken.test_client()
    before = scrape(client)
    assert client.get("/scim/v2/Users", headers={"Authorization": "Bearer x"}).status_code == 503
    after = scrape(client)
    assert delta(before, after, "scimgate_db_errors_total", kind="database_unavailable") == 1
    assert value(after, "scimgate_configuration_readable") == 0
    assert (
        delta(before, after, "scimgate_scim_requests_total", **requests("Users", "GET", 503, "unknown")) == 1
    )


class SerializationFailure(Exception):
    """What psycopg raises for SQLSTATE 40001 (the attribute ``retry_transaction`` reads)."""

    sqlstate = "40001"


def test_serialization_retries_and_lock_timeouts_are_counted(app: Flask, client: FlaskClient) -> None:
    attempts: list[int] = []

    @retry_transaction
    def view() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise sa.exc.OperationalError("UPDATE scim_user ...", {}, SerializationFailure())
        return "done"

    @retry_transaction
    def locked() -> str:
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    before = scrape(client)
    with app.test_request_context("/scim/v2/Users", method="PATCH"):
        assert view() == "done"
        with pytest.raises(ScimError):
            locked()
    after = scrape(client)
    assert delta(before, after, "scimgate_db_serialization_retries_total", sqlstate="40001") == 2
    assert delta(before, after, "scimgate_db_errors_total", kind="database_busy") == 1


def test_loopback_reads_metrics_and_other_addresses_are_refused(client: FlaskClient) -> None:
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.8.9.10"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::ffff:127.0.0.1"}).status_code == 200
    for address in (OUTSIDE, "10.0.0.1", "::2", "::ffff:10.0.0.1", ""):
        assert_refused(client.get("/metrics", environ_base={"REMOTE_ADDR": address}), 403)


def test_a_forwarded_for_header_cannot_claim_loopback(app: Flask, log_dir: Path) -> None:
    # No trusted proxy: X-Forwarded-For is the client's own text and is ignored.
    direct = other_app(app, log_dir).test_client()
    refused = direct.get(
        "/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, environ_base={"REMOTE_ADDR": OUTSIDE}
    )
    assert_refused(refused, 403)
    # One trusted proxy on loopback: the address it appended is the client's, whatever came before.
    proxied = other_app(app, log_dir, PROXY_FIX_X_FOR=1).test_client()
    spoofed = proxied.get(
        "/metrics",
        headers={"X-Forwarded-For": f"127.0.0.1, {OUTSIDE}"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert_refused(spoofed, 403)
    assert_refused(proxied.get("/metrics", headers={"X-Forwarded-For": OUTSIDE}), 403)
    assert proxied.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_the_allow_list_widens_who_may_scrape(app: Flask, log_dir: Path) -> None:
    client = other_app(app, log_dir, METRICS_ALLOW="198.51.100.7, 203.0.113.0/24 2001:db8::/32").test_client()
    for address in ("198.51.100.7", OUTSIDE, "203.0.113.200", "2001:db8::5", "127.0.0.1"):
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == 200, address
    for address in ("198.51.100.8", "192.0.2.1", "2001:db9::5"):
        assert_refused(client.get("/metrics", environ_base={"REMOTE_ADDR": address}), 403)


def test_a_wrong_allow_list_stops_the_app(app: Flask, log_dir: Path) -> None:
    with pytest.raises(ValueError, match="SCIMGATE_METRICS_ALLOW: 'not-an-address'"):
        other_app(app, log_dir, METRICS_ALLOW="10.0.0.1, not-an-address")


def test_a_short_metrics_token_stops_the_app(app: Flask, log_dir: Path) -> None:
    with pytest.raises(ValueError, match="SCIMGATE_METRICS_TOKEN must be at least 24 characters"):
        other_app(app, log_dir, METRICS_TOKEN="password123")


def test_the_metrics_token_admits_a_scraper_elsewhere_and_a_scim_token_does_not(
    app: Flask, log_dir: Path, scim_headers: dict[str, str]
) -> None:
    client = other_app(app, log_dir, METRICS_TOKEN=METRICS_TOKEN).test_client()
    outside = {"REMOTE_ADDR": OUTSIDE}
    scrape(client, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, environ_base=outside)
    scrape(client, headers={"Authorization": f"bearer  {METRICS_TOKEN} "}, environ_base=outside)
    scrape(client)  # loopback needs no token
    refusals = [
        {},
        {"Authorization": f"Bearer {METRICS_TOKEN}x"},
        {"Authorization": f"Bearer {METRICS_TOKEN[:-1]}"},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
        {"Authorization": "Bearer "},
        scim_headers,  # the SCIM bearer token of this very database
        {"Authorization": "Basic c2NpbTpzZWNyZXQ="},
    ]
    for headers in refusals:
        response = client.get("/metrics", headers=headers, environ_base=outside)
        assert_refused(response, 401)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="scimgate metrics"'
    # The SCIM token still works for SCIM: it is refused by /metrics, not broken.
    assert client.get("/scim/v2/Users", headers=scim_headers).status_code == 200


def test_the_metrics_token_is_never_logged(
    app: Flask, log_dir: Path, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    client = other_app(app, tmp_path, METRICS_TOKEN=METRICS_TOKEN).test_client()
    with caplog.at_level("DEBUG"):
        client.get(
            "/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}x"},
            environ_base={"REMOTE_ADDR": OUTSIDE},
        )
        client.get(
            "/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            environ_base={"REMOTE_ADDR": OUTSIDE},
        )
    assert "metrics: refused 203.0.113.5" in caplog.text
    assert METRICS_TOKEN not in caplog.text
    for path in tmp_path.rglob("*.log"):
        assert METRICS_TOKEN not in path.read_text()


def test_a_scrape_opens_no_cookie_session(client: FlaskClient) -> None:
    """A scraper is not a browser: /metrics, like /healthz, skips the cookie session entirely
    (nothing is loaded or saved for it) and never sets a cookie."""
    for path in ("/metrics", "/healthz"):
        assert is_sessionless(path), path
        response = client.get(path, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, path
