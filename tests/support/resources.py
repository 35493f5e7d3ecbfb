"""Creating SCIM resources the RFC way and checking SCIM error bodies (RFC 7644 §3.3, §3.12)."""

from __future__ import annotations

from scimgate.scim import urns

ERROR = urns.ERROR


def new_user(scim, user_name: str = "bjensen", **extra):
    body = {"schemas": [urns.USER], "userName": user_name, **extra}
    response = scim.post("/Users", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def assert_error(response, status: int, scim_type: str | None, *words: str) -> dict:
    body = response.get_json()
    assert response.status_code == status, body
    assert response.mimetype == "application/scim+json"
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    if scim_type is None:
        assert "scimType" not in body
    else:
        assert body["scimType"] == scim_type
    for word in words:
        assert word in body["detail"], body["detail"]
    return body


def new_group(scim, name: str = "Tour Guides", members: list[str] | None = None, **extra) -> dict:
    body = {"schemas": [urns.GROUP], "displayName": name, **extra}
    if members is not None:
        body["members"] = [{"value": m} for m in members]
    response = scim.post("/Groups", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()
