"""Helpers for the bad-input tests (issue 16): SCIM error checks and raw bodies (plain functions)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from scimgate.scim import urns

SCIM_JSON = {"Content-Type": "application/scim+json"}


def assert_scim_error(response: Any, status: int, scim_type: str, *words: str) -> dict[str, Any]:
    """The response is an RFC 7644 §3.12 error with this status and scimType, whose detail
    (a sentence a person can act on) contains each of ``words``."""
    body = response.get_json()
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/scim+json"
    assert body["schemas"] == [urns.ERROR]
    assert body["status"] == str(status)
    assert body["scimType"] == scim_type, body
    assert len(body["detail"]) > 20, body
    for word in words:
        assert word in body["detail"], body["detail"]
    return body


def csrf_token(client: FlaskClient) -> str:
    """This session's CSRF token for /api/v1 changes."""
    return client.get("/api/v1/session").get_json()["csrf_token"]


def api_raw(client: FlaskClient, method: str, path: str, data: bytes) -> Any:
    """Send ``data`` verbatim as an application/json body to /api/v1 with the CSRF token."""
    return client.open(
        f"/api/v1{path}",
        method=method,
        data=data,
        headers={"Content-Type": "application/json", "X-CSRF-Token": csrf_token(client)},
    )
