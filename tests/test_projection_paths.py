"""``attributes``/``excludedAttributes`` must be attribute paths (RFC 7644 §3.4.2.5, §3.10):
anything else is 400 ``invalidValue`` with a detail; unknown attribute names stay ignored."""

from __future__ import annotations

import pytest

from scimgate.scim import urns
from tests.support.scim import ScimClient

BAD_PATHS = [
    'emails[type eq "work"]',
    'emails[type eq "work"].value',
    "name..givenName",
    "1abc",
    "user name",
    "a.b.c",
]


@pytest.mark.parametrize("parameter", ["attributes", "excludedAttributes"])
@pytest.mark.parametrize("value", BAD_PATHS)
def test_a_value_that_is_no_attribute_path_is_invalid_value(
    scim: ScimClient, parameter: str, value: str
) -> None:
    user_id = scim.post("/Users", json={"schemas": [urns.USER], "userName": "bjensen"}).get_json()["id"]
    for response in (
        scim.get("/Users", query_string={parameter: f"userName,{value}"}),
        scim.get(f"/Users/{user_id}", query_string={parameter: value}),
        scim.post("/Users/.search", json={parameter: ["userName", value]}),
        scim.post("/.search", json={"filter": 'userName eq "bjensen"', parameter: [value]}),
        scim.get("/Groups", query_string={parameter: value}),
    ):
        assert response.status_code == 400, (response.request.path, response.get_json())
        body = response.get_json()
        assert body["scimType"] == "invalidValue"
        assert parameter in body["detail"] and "attribute path" in body["detail"]


@pytest.mark.parametrize(
    "value",
    [
        "userName",
        "name.givenName",
        "NAME.GIVENNAME",
        "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "groups.$ref",
        "noSuchAttribute",
        "noSuch.thing",
        " userName , emails ",
    ],
)
def test_attribute_paths_are_accepted_and_unknown_names_ignored(scim: ScimClient, value: str) -> None:
    scim.post("/Users", json={"schemas": [urns.USER], "userName": "bjensen"})
    response = scim.get("/Users", query_string={"attributes": value})
    assert response.status_code == 200, response.get_json()
    excluded = scim.get("/Users", query_string={"excludedAttributes": value})
    assert excluded.status_code == 200, excluded.get_json()
