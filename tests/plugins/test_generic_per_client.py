"""The generic SCIM behaviour, once with each built-in client active.

A plugin may reshape what its IdP sends and how responses look (Entra's 204 on group PATCH), but
RFC 7644-shaped requests must work the same for every client. Assertions here hold for all of
them: a group PATCH may answer 200 with the group or 204 with no body, so state is read back
with GET.
"""

from __future__ import annotations

import pytest

from scimgate.plugin_host import BUILTIN_CLIENTS
from scimgate.scim import urns
from tests.support.plugins import active_client, patch_body, stored_group, stored_user


@pytest.fixture(params=BUILTIN_CLIENTS)
def scim(request, app):
    """An API client with one built-in client active."""
    return active_client(app, request.param)


def _patched(response) -> None:
    assert response.status_code in (200, 204), response.get_json()
    if response.status_code == 204:
        assert response.get_data() == b""


def test_user_lifecycle(scim, app):
    created = scim.post(
        "/Users",
        json={
            "schemas": [urns.USER],
            "userName": "generic.user",
            "name": {"givenName": "Gen", "familyName": "Eric"},
            "emails": [{"value": "generic@example.com", "type": "work", "primary": True}],
            "displayName": "Gen Eric",
            "active": True,
        },
    )
    assert created.status_code == 201
    user = created.get_json()
    assert created.headers["Location"] == user["meta"]["location"]
    assert scim.get(f"/Users/{user['id']}").get_json() == user

    found = scim.get("/Users", query_string={"filter": 'userName eq "generic.user"'}).get_json()
    assert [r["id"] for r in found["Resources"]] == [user["id"]]
    assert scim.get("/Users", query_string={"filter": 'userName eq "nobody"'}).get_json()["totalResults"] == 0

    put = scim.put(
        f"/Users/{user['id']}",
        json={
            "schemas": [urns.USER],
            "userName": "generic.user",
            "name": {"givenName": "Gene", "familyName": "Eric"},
        },
    )
    assert put.status_code == 200 and put.get_json()["active"] is True

    for operations, expected_active in (
        ([{"op": "replace", "path": "displayName", "value": "Gene Eric"}], True),
        ([{"op": "replace", "path": "active", "value": False}], False),
        ([{"op": "replace", "path": "active", "value": True}], True),
        ([{"op": "replace", "path": "active", "value": False}], False),
    ):
        response = scim.patch(f"/Users/{user['id']}", json=patch_body(*operations))
        assert response.status_code == 200 and response.get_json()["active"] is expected_active

    read = scim.get(f"/Users/{user['id']}").get_json()
    assert (read["displayName"], read["active"], read["name"]["givenName"]) == ("Gene Eric", False, "Gene")
    stored = stored_user(app, user["id"])
    assert stored is not None and stored.is_active is False and stored.display_name == "Gene Eric"

    assert scim.delete(f"/Users/{user['id']}").status_code == 204
    assert scim.get(f"/Users/{user['id']}").status_code == 404
    assert stored_user(app, user["id"]) is None


def test_group_lifecycle(scim, app):
    alice = scim.post("/Users", json={"schemas": [urns.USER], "userName": "alice", "active": True}).get_json()
    bob = scim.post("/Users", json={"schemas": [urns.USER], "userName": "bob", "active": True}).get_json()
    created = scim.post(
        "/Groups",
        json={"schemas": [urns.GROUP], "displayName": "Generic", "members": [{"value": alice["id"]}]},
    )
    assert created.status_code == 201
    group_id = created.get_json()["id"]

    found = scim.get("/Groups", query_string={"filter": 'displayName eq "Generic"'}).get_json()
    assert [r["id"] for r in found["Resources"]] == [group_id]

    _patched(
        scim.patch(
            f"/Groups/{group_id}",
            json=patch_body({"op": "add", "path": "members", "value": [{"value": bob["id"]}]}),
        )
    )
    assert {m["value"] for m in scim.get(f"/Groups/{group_id}").get_json()["members"]} == {
        alice["id"],
        bob["id"],
    }

    _patched(
        scim.patch(
            f"/Groups/{group_id}",
            json=patch_body({"op": "remove", "path": f'members[value eq "{alice["id"]}"]'}),
        )
    )
    _patched(
        scim.patch(
            f"/Groups/{group_id}",
            json=patch_body({"op": "replace", "path": "displayName", "value": "Renamed"}),
        )
    )
    read = scim.get(f"/Groups/{group_id}").get_json()
    assert read["displayName"] == "Renamed"
    assert [m["value"] for m in read["members"]] == [bob["id"]]
    assert stored_group(app, group_id) == ("Renamed", {bob["id"]})

    user = scim.get(f"/Users/{bob['id']}").get_json()
    assert [g["value"] for g in user["groups"]] == [group_id]

    put = scim.put(
        f"/Groups/{group_id}",
        json={"schemas": [urns.GROUP], "displayName": "Renamed", "members": [{"value": alice["id"]}]},
    )
    assert put.status_code == 200
    assert stored_group(app, group_id) == ("Renamed", {alice["id"]})

    assert scim.delete(f"/Groups/{group_id}").status_code == 204
    assert scim.get(f"/Groups/{group_id}").status_code == 404
    assert stored_group(app, group_id) is None
