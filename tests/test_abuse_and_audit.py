"""Authentication throttling across processes, and the audit trail of every change (issue 9)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask

from scimgate import configuration_utils as cu
from scimgate.logs import audit
from scimgate.scim import urns
from tests.support.resources import assert_error, new_user

PASSWORD = "correct-horse-battery-9!x"


@pytest.fixture
def tight_limits(app: Flask) -> Iterator[None]:
    saved = {k: app.config[k] for k in ("AUTH_FAILURE_LIMIT", "AUTH_BLOCK_SECONDS")}
    app.config.update(AUTH_FAILURE_LIMIT=3, AUTH_BLOCK_SECONDS=120)
    yield
    app.config.update(saved)


def test_repeated_failures_from_one_address_get_429_but_valid_credentials_pass(
    app, client, scim_headers, tight_limits
):
    with app.app_context():
        cu.set_scim_basic_auth_username("svc")
        cu.set_scim_basic_auth_password(PASSWORD)
    ok_basic = client.get("/scim/v2/Users", auth=("svc", PASSWORD))  # verified once: cached
    assert ok_basic.status_code == 200
    bad = {"Authorization": "Bearer wrong"}
    statuses = [client.get("/scim/v2/Users", headers=bad).status_code for _ in range(5)]
    assert statuses == [401, 401, 429, 429, 429]
    throttled = client.get("/scim/v2/Users", headers=bad)
    assert_error(throttled, 429, None, "retry after")
    assert 0 < int(throttled.headers["Retry-After"]) <= 120
    # A valid token and a recently verified password from the same address still work.
    assert client.get("/scim/v2/Users", headers=scim_headers).status_code == 200
    assert client.get("/scim/v2/Users", auth=("svc", PASSWORD)).status_code == 200
    # A password guess gets no argon2 run while blocked.
    assert_error(client.get("/scim/v2/Users", auth=("svc", "guess-guess-guess-1!")), 429, None)


def test_throttling_is_per_address(app, client, scim_headers, tight_limits):
    bad = {"Authorization": "Bearer wrong"}
    for _ in range(3):
        client.get("/scim/v2/Users", headers=bad)
    assert client.get("/scim/v2/Users", headers=bad).status_code == 429
    other = client.get("/scim/v2/Users", headers=bad, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 401


def test_throttle_events_are_logged(app, client, scim_headers, tight_limits, log_dir):
    bad = {"Authorization": "Bearer wrong"}
    for _ in range(4):
        client.get("/scim/v2/Users", headers=bad)
    info = (log_dir / "scim-info.log").read_text()
    assert "auth.throttled" in info


def test_every_scim_change_is_audited_with_actor_request_and_before_after(app, scim):
    user = new_user(scim, "audited", displayName="Before")
    response = scim.patch(
        f"/Users/{user['id']}",
        json={
            "schemas": [urns.PATCH_OP],
            "Operations": [{"op": "replace", "path": "displayName", "value": "After"}],
        },
    )
    group = scim.post(
        "/Groups", json={"schemas": [urns.GROUP], "displayName": "G", "members": [{"value": user["id"]}]}
    ).get_json()
    scim.delete(f"/Groups/{group['id']}")
    with app.app_context():
        events = audit.query(target=user["id"])
        actions = [e.action for e in events]
        assert actions == ["user.created", "user.patched"]
        patched = events[1]
        assert patched.actor.startswith("scim:okta:token:")
        assert patched.request_id == response.headers["X-Request-Id"]
        assert json.loads(patched.changes)["displayName"] == {"before": "Before", "after": "After"}
        group_events = [e.action for e in audit.query(target=group["id"])]
        assert group_events == ["group.created", "group.deleted"]
        created = json.loads(audit.query(target=group["id"])[0].changes)
        assert created["members_added"] == [user["id"]]


def test_credential_changes_are_audited_without_secrets(app, scim_headers):
    with app.app_context():
        cu.set_scim_basic_auth_username("svc")
        cu.set_scim_basic_auth_password(PASSWORD)
        token = cu.generate_scim_bearer_token(2)
        events = [e for e in audit.query() if e.target_type == "setting"]
        text = " ".join(e.changes for e in events)
        assert PASSWORD not in text and token not in text
        assert any("scim.basic_auth.password_hash" in e.target_id for e in events)
        assert '"<set>"' in text
        assert all(e.actor.startswith("cli:") for e in events)


def test_audit_cli_prints_and_prunes(app, scim, runner):
    new_user(scim, "someone")
    result = runner.invoke(args=["audit", "--user", "someone"])
    assert result.exit_code == 0, result.output
    assert "user.created User" in result.output
    assert runner.invoke(args=["audit", "--since", "not-a-date"]).exit_code != 0
    app.config["AUDIT_RETENTION_DAYS"] = 0
    try:
        pruned = runner.invoke(args=["audit", "prune"])
    finally:
        app.config["AUDIT_RETENTION_DAYS"] = 365
    assert pruned.exit_code == 0 and "pruned" in pruned.output
    assert runner.invoke(args=["audit", "--user", "someone"]).output.strip() == ""


def test_optional_per_credential_rate_limit(app, client, scim_headers):
    assert "X-RateLimit-Limit" not in client.get("/scim/v2/Users", headers=scim_headers).headers
    app.config["SCIM_RATE_LIMIT_PER_MINUTE"] = 3
    try:
        responses = [client.get("/scim/v2/Users", headers=scim_headers) for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert responses[0].headers["X-RateLimit-Limit"] == "3"
        assert responses[0].headers["X-RateLimit-Remaining"] == "2"
        assert_error(responses[3], 429, None, "3 requests in a minute")
        assert 0 < int(responses[3].headers["Retry-After"]) <= 61
        spc = client.get("/scim/v2/ServiceProviderConfig", headers=scim_headers)
        assert spc.status_code == 429
    finally:
        app.config["SCIM_RATE_LIMIT_PER_MINUTE"] = 0
    spc = client.get("/scim/v2/ServiceProviderConfig", headers=scim_headers).get_json()
    assert all("Rate limit" not in s["description"] for s in spc["authenticationSchemes"])


def test_request_body_cap_is_413_and_advertised(app, scim):
    largest = scim.get("/ServiceProviderConfig").get_json()["bulk"]["maxPayloadSize"]
    assert largest == app.config["SCIM_MAX_BODY_GROUP"]
    limit = app.config["SCIM_MAX_BODY_USER"]
    app.config["SCIM_MAX_BODY_USER"] = 1000
    try:
        response = scim.post("/Users", json={"schemas": [urns.USER], "userName": "x" * 2000})
    finally:
        app.config["SCIM_MAX_BODY_USER"] = limit
    assert_error(response, 413, None, "at most 1000 bytes (SCIM_MAX_BODY_USER)")
    assert scim.get("/Users").get_json()["totalResults"] == 0
