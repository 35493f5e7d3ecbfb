"""Every refused or failed SCIM request leaves its reason in scim-debug.log, under its request id.

The reference: "If SCIM synchronization fails, review the debug log for details". The line says
the status, ``scimType``, ``detail`` and the attribute concerned; never a credential or a whole
body, with request values bounded and escaped. scim-error.log keeps server faults only.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from scimgate import configuration_utils as cu
from scimgate.hookspecs import hookimpl
from scimgate.logs import activity as scim_activity
from scimgate.scim import urns
from tests.support.config import PASSWORD, SPC, USERNAME, basic_header, bearer_header, lines_with, sibling_app
from tests.support.scim import ScimClient, configure_scim

SCIM_JSON = "application/scim+json"


def _refusal(log_dir: Path, response) -> str:
    """The one ``request.refused`` line of this response's request id in scim-debug.log."""
    request_id = response.headers["X-Request-Id"]
    lines = [
        line for line in lines_with(log_dir, "scim-debug.log", request_id) if " request.refused " in line
    ]
    assert len(lines) == 1, lines
    assert not lines_with(log_dir, "scim-error.log", request_id)  # a refusal is not a server fault
    return lines[0]


def test_a_conflict_names_status_type_detail_and_attribute(scim: ScimClient, log_dir: Path) -> None:
    assert scim.post("/Users", json={"schemas": [urns.USER], "userName": "bjensen"}).status_code == 201
    response = scim.post(
        "/Users", json={"schemas": [urns.USER], "userName": "bjensen", "password": "hunter2-hunter2!"}
    )
    assert response.status_code == 409
    line = _refusal(log_dir, response)
    assert "method=POST path=/scim/v2/Users status=409 scimType=uniqueness" in line
    assert "detail=\"userName 'bjensen' is already in use by another user.\"" in line
    assert "attribute=userName" in line
    assert "hunter2" not in line  # never the body


def test_the_activity_row_keeps_the_reason(app: Flask, scim: ScimClient) -> None:
    scim.post("/Users", json={"schemas": [urns.USER], "userName": "bjensen"})
    response = scim.post("/Users", json={"schemas": [urns.USER], "userName": "bjensen"})
    scim.get(SPC)
    with app.app_context():
        rows = scim_activity.latest()
        by_id = {row.request_id: row for row in rows}
    refused = by_id[response.headers["X-Request-Id"]]
    assert refused.reason == "409 uniqueness: userName 'bjensen' is already in use by another user."
    assert all(row.reason is None for row in rows if row.status < 400)


def test_authentication_refusals_give_the_reason_never_the_credential(
    app: Flask, client: FlaskClient, log_dir: Path
) -> None:
    headers = configure_scim(app)
    token = headers["Authorization"].split()[1]
    with app.app_context():
        cu.set_scim_basic_auth_username(USERNAME)
        cu.set_scim_basic_auth_password(PASSWORD)
    missing = client.get(SPC)
    assert 'status=401 detail="Authentication failed' in _refusal(log_dir, missing)
    assert 'reason="no credentials"' in _refusal(log_dir, missing)
    wrong_token = client.get(SPC, headers=bearer_header(token[:-4] + "AAAA"))
    line = _refusal(log_dir, wrong_token)
    assert 'reason="unknown token"' in line and token[:-4] not in line
    wrong_password = client.get("/scim/v2/Users", headers=basic_header(USERNAME, PASSWORD + "x"))
    line = _refusal(log_dir, wrong_password)
    assert 'reason="wrong password"' in line
    assert PASSWORD not in line and "Authorization" not in line and "Basic " not in line
    with app.app_context():
        cu.disable_sync_from_directory_provider()
    disabled = client.get(SPC, headers=headers)
    assert disabled.status_code == 403
    assert 'status=403 detail="SCIM sync is disabled' in _refusal(log_dir, disabled)


def test_routing_and_protocol_refusals_are_explained(scim: ScimClient, log_dir: Path) -> None:
    unknown_id = scim.get("/Users/no-such-id")
    assert unknown_id.status_code == 404
    assert "status=404" in _refusal(log_dir, unknown_id) and "no-such-id" in _refusal(log_dir, unknown_id)
    no_endpoint = scim.get("/Nowhere")
    assert no_endpoint.status_code == 404
    assert 'detail="No SCIM endpoint at /scim/v2/Nowhere."' in _refusal(log_dir, no_endpoint)
    wrong_method = scim.client.put(SPC, headers=scim.headers)
    assert wrong_method.status_code == 405
    assert "status=405" in _refusal(log_dir, wrong_method)
    user_id = scim.post("/Users", json={"schemas": [urns.USER], "userName": "etag.user"}).get_json()["id"]
    stale = scim.put(
        f"/Users/{user_id}",
        json={"schemas": [urns.USER], "userName": "etag.user"},
        headers={"If-Match": 'W/"99"'},
    )
    assert stale.status_code == 412
    assert "status=412" in _refusal(log_dir, stale)
    text = scim.client.post(
        "/scim/v2/Users", data="userName=x", headers={**scim.headers, "Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    assert "status=415" in _refusal(log_dir, text)
    bad = scim.get("/Users", query_string={"filter": "userName zz 1"})
    assert bad.status_code == 400
    assert "status=400 scimType=invalidFilter" in _refusal(log_dir, bad)


def test_size_and_rate_refusals_are_explained(app: Flask, tmp_path: Path) -> None:
    headers = configure_scim(app)
    small = sibling_app(app, tmp_path, MAX_CONTENT_LENGTH=2000, AUTH_FAILURE_LIMIT=2)
    client = small.test_client()
    too_big = client.post(
        "/scim/v2/Users",
        data=json.dumps({"userName": "x" * 5000}),
        headers={**headers, "Content-Type": SCIM_JSON},
    )
    assert too_big.status_code == 413
    assert "status=413" in _refusal(tmp_path, too_big)
    statuses = [client.get(SPC, headers=bearer_header("scimgate_nope")).status_code for _ in range(4)]
    assert statuses[-1] == 429, statuses
    throttled = client.get(SPC, headers=bearer_header("scimgate_nope"))
    line = _refusal(tmp_path, throttled)
    assert "status=429" in line and "Too many failed authentication attempts" in line


def test_request_values_in_the_reason_are_bounded_and_cannot_forge_lines(
    scim: ScimClient, log_dir: Path
) -> None:
    forged = 'userName eq "x"\r\n2026-01-01 00:00:00,000 INFO [fake] request.refused status=200 ' + "y" * 5000
    response = scim.get("/Users", query_string={"filter": forged + " zz"})
    assert response.status_code == 400
    line = _refusal(log_dir, response)
    log_lines = (log_dir / "scim-debug.log").read_text(encoding="utf-8").splitlines()
    assert not any(text.startswith("2026-01-01 00:00:00,000 INFO [fake]") for text in log_lines)
    assert len(line) < 1500  # the filter was over 5000 characters


class _FailingPlugin:
    """A client-independent plugin whose response hook fails: a server fault."""

    @hookimpl
    def scimgate_tune_response(self, resource_type: str, action: str, response) -> None:
        raise RuntimeError("plugin fault for the error log")


def test_a_server_fault_is_explained_in_debug_and_traced_in_error_log(app: Flask, tmp_path: Path) -> None:
    headers = configure_scim(app)
    faulty = sibling_app(app, tmp_path, PLUGINS_EXTRA=(_FailingPlugin(),))
    response = faulty.test_client().get("/scim/v2/Users", headers=headers)
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    refused = [
        line for line in lines_with(tmp_path, "scim-debug.log", request_id) if "request.refused" in line
    ]
    assert len(refused) == 1 and "status=500" in refused[0]
    errors = "\n".join(lines_with(tmp_path, "scim-error.log", request_id))
    assert "RuntimeError: plugin fault for the error log" in errors
