"""/Users: create, read, replace, delete and the reference's attribute rules (RFC 7644 §3)."""

from __future__ import annotations

import pytest

from scimgate.scim import urns
from tests.support.resources import assert_error, new_user

RFC_USER = {
    # RFC 7644 §3.3, the creation example (verbatim).
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "bjensen",
    "externalId": "bjensen",
    "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"},
}


def test_create_returns_201_location_etag_and_the_full_resource(scim):
    response = scim.post("/Users", json=RFC_USER)
    assert response.status_code == 201
    assert response.mimetype == "application/scim+json"
    body = response.get_json()
    assert body["schemas"] == [urns.USER]
    assert body["userName"] == "bjensen"
    assert body["externalId"] == "bjensen"
    assert body["name"] == {"givenName": "Barbara", "familyName": "Jensen"}
    assert body["active"] is True
    assert response.headers["Location"] == body["meta"]["location"]
    assert body["meta"]["location"].endswith(f"/scim/v2/Users/{body['id']}")
    assert response.headers["ETag"] == body["meta"]["version"] == 'W/"1"'
    assert body["meta"]["resourceType"] == "User"
    assert body["meta"]["created"].endswith("Z")


def test_get_by_id_and_unknown_id(scim):
    created = new_user(scim)
    response = scim.get(f"/Users/{created['id']}")
    assert response.status_code == 200
    assert response.get_json() == created
    assert_error(scim.get("/Users/2819c223-7f76-453a-919d-413861904646"), 404, None, "not found")


def test_duplicate_username_is_409_uniqueness_and_usernames_are_case_sensitive(scim):
    new_user(scim, "bjensen")
    assert_error(scim.post("/Users", json=RFC_USER), 409, "uniqueness", "bjensen")
    other = new_user(scim, "BJensen")
    assert other["userName"] == "BJensen"


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("userName", {"userName": "u" * 151}),
        ("givenName", {"userName": "a", "name": {"givenName": "g" * 151}}),
        ("familyName", {"userName": "a", "name": {"familyName": "f" * 151}}),
        ("displayName", {"userName": "a", "displayName": "d" * 201}),
        ("emails", {"userName": "a", "emails": [{"value": "e" * 250 + "@x.io"}]}),
        ("externalId", {"userName": "a", "externalId": "x" * 256}),
    ],
)
def test_values_longer_than_the_reference_limits_are_invalid_value(scim, field, body):
    assert_error(scim.post("/Users", json={"schemas": [urns.USER], **body}), 400, "invalidValue", field)
    assert scim.get("/Users").get_json()["totalResults"] == 0


def test_limits_themselves_are_accepted(scim):
    body = new_user(
        scim,
        "u" * 150,
        name={"givenName": "g" * 150, "familyName": "f" * 150},
        displayName="d" * 200,
        emails=[{"value": "e" * 249 + "@x.io", "primary": True}],
    )
    assert len(body["emails"][0]["value"]) == 254


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({"displayName": "no user name"}, "userName"),
        ({"userName": 12}, "userName"),
        ({"userName": ""}, "userName"),
        ({"userName": "a", "active": "true"}, "active"),
        ({"userName": "a", "name": "Barbara"}, "name"),
        ({"userName": "a", "emails": "a@x.io"}, "emails"),
    ],
)
def test_wrong_or_missing_values_are_invalid_value(scim, body, word):
    assert_error(scim.post("/Users", json={"schemas": [urns.USER], **body}), 400, "invalidValue", word)


def test_schemas_must_include_the_user_schema_but_unknown_extras_are_tolerated(scim):
    assert_error(
        scim.post("/Users", json={"schemas": [urns.GROUP], "userName": "a"}), 400, "invalidValue", "schemas"
    )
    body = new_user(scim, "b", schemas=[urns.USER, "urn:example:unknown:2.0:Thing"])
    assert body["schemas"] == [urns.USER]


@pytest.mark.parametrize(
    ("emails", "stored"),
    [
        ([{"value": "b@x.io"}, {"value": "a@x.io", "primary": True}, {"value": "c@x.io"}], "a@x.io"),
        ([{"value": "zed@x.io", "primary": True}, {"value": "a@x.io"}], "zed@x.io"),
        ([{"value": "c@x.io"}, {"value": "B@x.io"}, {"value": "d@x.io"}], "B@x.io"),
        ([{"value": "y@x.io", "primary": True}, {"value": "x@x.io", "primary": True}], "x@x.io"),
        ([{"value": "same@x.io", "primary": True}, {"value": "same@x.io", "primary": True}], "same@x.io"),
    ],
)
def test_one_email_is_stored_primary_first_else_alphabetical(scim, emails, stored):
    body = new_user(scim, emails=emails)
    assert [e["value"] for e in body["emails"]] == [stored]
    chosen = next(e for e in emails if e["value"] == stored)
    assert body["emails"][0].get("primary") == chosen.get("primary")


def test_email_type_is_kept_with_the_stored_address(scim):
    body = new_user(scim, emails=[{"value": "w@x.io", "type": "work", "primary": True}])
    assert body["emails"] == [{"value": "w@x.io", "type": "work", "primary": True}]


def test_unsupported_attributes_are_accepted_ignored_and_never_returned(scim):
    body = new_user(
        scim,
        schemas=[urns.USER, urns.ENTERPRISE_USER],
        title="Tour Guide",
        phoneNumbers=[{"value": "555-555-8377", "type": "work"}],
        addresses=None,
        locale="en-US",
        password="t1meMa$heen",
        nickName="Babs",
        groups=[{"value": "not-a-group"}],
        roles=[],
        **{urns.ENTERPRISE_USER: {"employeeNumber": "701984", "department": "Tour Operations"}},
    )
    for key in ("title", "phoneNumbers", "locale", "password", "nickName", "roles", urns.ENTERPRISE_USER):
        assert key not in body
    assert "groups" not in body


def test_null_values_are_treated_as_absent(scim):
    body = new_user(scim, displayName=None, name={"givenName": None, "familyName": "J"}, emails=None)
    assert "displayName" not in body
    assert body["name"] == {"familyName": "J"}


def test_put_replaces_writable_attributes_and_ignores_read_only_ones(scim):
    created = new_user(scim, displayName="Babs", name={"givenName": "Barbara", "familyName": "Jensen"})
    body = {
        "schemas": [urns.USER],
        "id": "ignored-id",
        "meta": {"version": 'W/"999"'},
        "groups": [{"value": "ignored"}],
        "userName": "bjensen2",
        "name": {"givenName": "Babs"},
        "emails": [{"value": "b@x.io", "primary": True}],
    }
    response = scim.put(f"/Users/{created['id']}", json=body)
    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert updated["id"] == created["id"]
    assert updated["userName"] == "bjensen2"
    assert updated["name"] == {"givenName": "Babs"}
    assert "displayName" not in updated  # omitted on PUT: cleared
    assert updated["active"] is True  # omitted on PUT: kept
    assert updated["meta"]["version"] == 'W/"2"'
    assert response.headers["ETag"] == 'W/"2"'


def test_put_with_active_false_deactivates_and_the_user_stays_readable(scim):
    created = new_user(scim)
    response = scim.put(
        f"/Users/{created['id']}", json={"schemas": [urns.USER], "userName": "bjensen", "active": False}
    )
    assert response.get_json()["active"] is False
    assert scim.get(f"/Users/{created['id']}").get_json()["active"] is False
    again = scim.put(f"/Users/{created['id']}", json={"schemas": [urns.USER], "userName": "bjensen"})
    assert again.get_json()["active"] is False


def test_put_to_a_taken_username_is_409_and_changes_nothing(scim):
    new_user(scim, "taken")
    created = new_user(scim, "mine", displayName="Mine")
    response = scim.put(f"/Users/{created['id']}", json={"schemas": [urns.USER], "userName": "taken"})
    assert_error(response, 409, "uniqueness", "taken")
    assert scim.get(f"/Users/{created['id']}").get_json() == created


def test_put_unknown_user_is_404(scim):
    assert_error(scim.put("/Users/nope", json={"schemas": [urns.USER], "userName": "x"}), 404, None, "nope")


def test_delete_is_204_then_404(scim):
    created = new_user(scim)
    response = scim.delete(f"/Users/{created['id']}")
    assert response.status_code == 204
    assert response.data == b""
    assert_error(scim.get(f"/Users/{created['id']}"), 404, None)
    assert_error(scim.delete(f"/Users/{created['id']}"), 404, None)


def test_etags_if_match_and_if_none_match(scim):
    created = new_user(scim)
    url = f"/Users/{created['id']}"
    not_modified = scim.get(url, headers={"If-None-Match": 'W/"1"'})
    assert not_modified.status_code == 304
    assert not_modified.headers["ETag"] == 'W/"1"'
    assert scim.get(url, headers={"If-None-Match": 'W/"7"'}).status_code == 200
    stale = scim.put(url, json={"schemas": [urns.USER], "userName": "x"}, headers={"If-Match": 'W/"7"'})
    assert_error(stale, 412, None, "If-Match")
    assert scim.get(url).get_json()["userName"] == "bjensen"
    fresh = scim.put(url, json={"schemas": [urns.USER], "userName": "x"}, headers={"If-Match": 'W/"1"'})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] == 'W/"2"'
    patch = {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": "replace", "path": "displayName", "value": "X"}],
    }
    assert scim.patch(url, json=patch, headers={"If-Match": 'W/"1"'}).status_code == 412
    assert scim.patch(url, json=patch, headers={"If-Match": '"2"'}).headers["ETag"] == 'W/"3"'
    assert scim.delete(url, headers={"If-Match": 'W/"2"'}).status_code == 412
    assert scim.delete(url, headers={"If-Match": "*"}).status_code == 204


def test_attributes_and_excluded_attributes_on_a_read(scim):
    created = new_user(scim, name={"givenName": "B", "familyName": "J"}, displayName="BJ")
    url = f"/Users/{created['id']}"
    only = scim.get(url, query_string={"attributes": "userName,name.familyName"}).get_json()
    assert only == {
        "schemas": [urns.USER],
        "id": created["id"],
        "userName": "bjensen",
        "name": {"familyName": "J"},
    }
    urn_qualified = scim.get(url, query_string={"attributes": f"{urns.USER}:displayName"}).get_json()
    assert set(urn_qualified) == {"schemas", "id", "displayName"}
    without = scim.get(url, query_string={"excludedAttributes": "name,meta,id"}).get_json()
    assert "name" not in without and "meta" not in without
    assert without["id"] == created["id"]  # returned "always"


def test_locations_follow_each_requests_host_and_scheme(app, scim):
    """The base URL of ``Location``/``meta.location`` is remembered per host, never mixed up."""
    created = new_user(scim, "hosted")
    path = f"/Users/{created['id']}"
    seen = []
    for host, scheme in [
        ("a.example", "http"),
        ("b.example:8443", "https"),
        ("a.example", "https"),
        ("a.example", "http"),
    ]:
        response = scim.get(path, base_url=f"{scheme}://{host}")
        seen.append(response.get_json()["meta"]["location"])
    assert seen == [
        f"http://a.example/scim/v2{path}",
        f"https://b.example:8443/scim/v2{path}",
        f"https://a.example/scim/v2{path}",
        f"http://a.example/scim/v2{path}",
    ]
    for i in range(70):  # more hosts than are remembered: each is still right
        response = scim.get(path, headers={"Host": f"h{i}.example"})
        assert response.get_json()["meta"]["location"] == f"http://h{i}.example/scim/v2{path}"


def test_a_single_resource_read_with_and_without_query_string_projects_alike(scim):
    created = new_user(scim, "projected", displayName="Projected")
    path = f"/Users/{created['id']}"
    full = scim.get(path).get_json()
    assert full["displayName"] == "Projected"
    assert scim.get(path + "?").get_json() == full
    narrowed = scim.get(path + "?attributes=userName").get_json()
    assert set(narrowed) == {"schemas", "id", "userName"}


def test_complex_attributes_name_each_offending_sub_attribute(scim):
    body = {
        "schemas": [urns.USER],
        "userName": "c",
        "name": "Ann",
        "emails": [{"value": "a@x.io"}, "b@x.io", {"value": 5, "primary": "yes"}],
    }
    detail = assert_error(scim.post("/Users", json=body), 400, "invalidValue")["detail"]
    assert detail.split("; ") == [
        "name: Must be a JSON object.",
        "emails[1]: Must be a JSON object.",
        "emails[2].value: Not a valid string.",
        "emails[2].primary: Not a valid boolean.",
    ]
    assert scim.get("/Users", query_string={"filter": 'userName eq "c"'}).get_json()["totalResults"] == 0


def test_complex_attributes_drop_nulls_and_unknown_sub_attributes(scim):
    created = new_user(
        scim,
        "d",
        name={"givenName": "Dee", "familyName": None, "honorificPrefix": "Dr."},
        emails=[{"value": "d@x.io", "type": None, "display": "ignored", "primary": True}],
    )
    assert created["name"] == {"givenName": "Dee"}
    assert created["emails"] == [{"value": "d@x.io", "primary": True}]
