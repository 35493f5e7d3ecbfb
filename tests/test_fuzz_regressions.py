"""Server bugs found by schemathesis (tests/test_openapi_fuzz.py) and the property tests, each
pinned by the smallest request that showed it."""

from __future__ import annotations

import pytest

from scimgate.scim import urns
from tests.support.resources import assert_error, new_user


def new_group(scim, name: str, **extra):
    response = scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": name, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("endpoint", ["/Users", "/Groups"])
def test_etag_and_location_survive_attributes_that_leave_meta_out(scim, endpoint):
    """Was: ETag and Location were read from the projected body, so ``attributes=id`` (or
    ``excludedAttributes=meta``) dropped them (RFC 7644 §3.3 and §3.14 require them)."""
    user = {"schemas": [urns.USER], "userName": "bjensen"}
    body = user if endpoint == "/Users" else {"schemas": [urns.GROUP], "displayName": "Tour Guides"}
    created = scim.post(endpoint, json=body, query_string={"attributes": "id"})
    assert created.status_code == 201
    assert created.get_json() == {
        "schemas": [created.get_json()["schemas"][0]],
        "id": created.get_json()["id"],
    }
    resource_id = created.get_json()["id"]
    assert created.headers["ETag"] == 'W/"1"'
    assert created.headers["Location"] == f"http://localhost/scim/v2{endpoint}/{resource_id}"
    read = scim.get(f"{endpoint}/{resource_id}", query_string={"excludedAttributes": "meta"})
    assert "meta" not in read.get_json()
    assert read.headers["ETag"] == 'W/"1"'
    assert "Location" not in read.headers
    put_body = {**body, "externalId": "x"}
    replaced = scim.put(f"{endpoint}/{resource_id}", json=put_body, query_string={"attributes": "externalId"})
    assert replaced.headers["ETag"] == 'W/"2"'
    patch = {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": "replace", "path": "externalId", "value": "y"}],
    }
    patched = scim.patch(f"{endpoint}/{resource_id}", json=patch, query_string={"attributes": "id"})
    assert patched.status_code == 200
    assert patched.headers["ETag"] == 'W/"3"'


def test_put_renaming_a_group_to_a_taken_name_with_members_is_409_not_500(scim):
    """Was: the member statements autoflushed the rename before _commit_or_conflict, so the
    unique-name violation escaped as a 500 (only when the PUT carried ``members``)."""
    user = new_user(scim)
    new_group(scim, "Taken")
    mine = new_group(scim, "Mine", members=[{"value": user["id"]}])
    response = scim.put(
        f"/Groups/{mine['id']}",
        json={"schemas": [urns.GROUP], "displayName": "Taken", "members": [{"value": user["id"]}]},
    )
    assert_error(response, 409, "uniqueness", "Taken")
    after = scim.get(f"/Groups/{mine['id']}").get_json()
    assert after["displayName"] == "Mine"
    assert after["meta"]["version"] == 'W/"1"'
    assert [m["value"] for m in after["members"]] == [user["id"]]


@pytest.mark.parametrize("start_index", [str(2**63), str(10**30)])
def test_start_index_beyond_any_database_integer_is_an_empty_page(scim, start_index):
    """Was: the OFFSET reached the driver (SQLite: OverflowError; PostgreSQL: bigint out of range)."""
    new_user(scim)
    for path in ("/Users", "/Groups"):
        response = scim.get(path, query_string={"startIndex": start_index})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["Resources"] == []
        assert body["startIndex"] == int(start_index)
    searched = scim.post("/Users/.search", json={"schemas": [urns.USER], "startIndex": int(start_index)})
    assert searched.status_code == 200
    assert searched.get_json()["totalResults"] == 1


@pytest.mark.parametrize("value", ["2.5", "1e400", "-1e400", "2.5e-42"])
@pytest.mark.parametrize("name", ["startIndex", "count"])
def test_non_integral_numbers_are_invalid_value(scim, name, value):
    """Was: 2.5 was silently truncated, and 1e400 (infinity) raised OverflowError: a 500."""
    response = scim.client.post(
        "/scim/v2/Users/.search",
        data=f'{{"{name}": {value}}}',
        headers={**scim.headers, "Content-Type": urns.SCIM_MEDIA_TYPE},
    )
    assert_error(response, 400, "invalidValue", name)


def test_integral_floats_are_integers(scim):
    new_user(scim)
    response = scim.client.post(
        "/scim/v2/Users/.search",
        data='{"startIndex": 1.0, "count": 1e1}',
        headers={**scim.headers, "Content-Type": urns.SCIM_MEDIA_TYPE},
    )
    assert response.status_code == 200
    assert response.get_json()["itemsPerPage"] == 1


@pytest.mark.parametrize("literal", [r'"\u0000"', r'"a\u0000b"', r'"\ud800"', r'"x\udfff"'])
def test_filter_strings_no_database_can_store_are_invalid_filter(scim, literal):
    """Was: an escaped NUL reached PostgreSQL (which refuses NUL in text) and a lone surrogate
    reached the driver's UTF-8 encoder: 500 on both databases."""
    user = new_user(scim)
    group = new_group(scim, "Tour Guides", members=[{"value": user["id"]}])
    for path, attribute in (("/Users", "userName"), ("/Groups", "displayName")):
        response = scim.get(path, query_string={"filter": f"{attribute} co {literal}"})
        assert_error(response, 400, "invalidFilter", "NUL")
    patch = {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": "remove", "path": f"members[value eq {literal}]"}],
    }
    assert scim.patch(f"/Groups/{group['id']}", json=patch).status_code == 400
    assert len(scim.get(f"/Groups/{group['id']}").get_json()["members"]) == 1
