"""PATCH on /Users (RFC 7644 §3.5.2): add, replace, remove, with and without path."""

from __future__ import annotations

from scimgate.scim import urns
from tests.support.resources import assert_error, new_user


def patch(scim, user_id: str, *operations: dict, **kwargs):
    return scim.patch(
        f"/Users/{user_id}", json={"schemas": [urns.PATCH_OP], "Operations": list(operations)}, **kwargs
    )


def test_replace_with_path_and_answer_is_200_with_the_resource(scim):
    user = new_user(scim, displayName="Babs")
    response = patch(scim, user["id"], {"op": "replace", "path": "displayName", "value": "Barbara"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["displayName"] == "Barbara"
    assert body["meta"]["version"] == 'W/"2"'


def test_pathless_replace_of_active_okta_shape(scim):
    user = new_user(scim)
    body = patch(scim, user["id"], {"op": "replace", "value": {"active": False}}).get_json()
    assert body["active"] is False
    body = patch(scim, user["id"], {"op": "replace", "value": {"active": True}}).get_json()
    assert body["active"] is True


def test_pathless_complex_value_merges_sub_attributes(scim):
    user = new_user(scim, name={"givenName": "Barbara", "familyName": "Jensen"})
    body = patch(scim, user["id"], {"op": "replace", "value": {"name": {"familyName": "Smith"}}}).get_json()
    assert body["name"] == {"givenName": "Barbara", "familyName": "Smith"}


def test_pathless_dotted_and_urn_qualified_keys(scim):
    user = new_user(scim, name={"givenName": "Barbara", "familyName": "Jensen"})
    value = {"name.givenName": "Babs", f"{urns.USER}:displayName": "BJ", urns.ENTERPRISE_USER: {"x": 1}}
    body = patch(scim, user["id"], {"op": "replace", "value": value}).get_json()
    assert body["name"] == {"givenName": "Babs", "familyName": "Jensen"}
    assert body["displayName"] == "BJ"


def test_add_on_single_valued_attribute_replaces_it(scim):
    user = new_user(scim, displayName="Old")
    body = patch(scim, user["id"], {"op": "add", "path": "displayName", "value": "New"}).get_json()
    assert body["displayName"] == "New"


def test_remove_sub_attribute_and_attribute(scim):
    user = new_user(scim, name={"givenName": "B", "familyName": "J"}, displayName="BJ")
    body = patch(
        scim,
        user["id"],
        {"op": "remove", "path": "name.givenName"},
        {"op": "remove", "path": "displayName"},
    ).get_json()
    assert body["name"] == {"familyName": "J"}
    assert "displayName" not in body


def test_value_filter_path_replaces_the_matching_email(scim):
    user = new_user(scim, emails=[{"value": "a@x.io", "type": "work", "primary": True}])
    body = patch(
        scim, user["id"], {"op": "replace", "path": 'emails[type eq "work"].value', "value": "b@x.io"}
    ).get_json()
    assert body["emails"] == [{"value": "b@x.io", "type": "work", "primary": True}]


def test_add_through_a_value_filter_that_matches_nothing_creates_the_email(scim):
    user = new_user(scim)
    body = patch(
        scim, user["id"], {"op": "add", "path": 'emails[type eq "work"].value', "value": "w@x.io"}
    ).get_json()
    assert body["emails"] == [{"value": "w@x.io", "type": "work"}]


def test_replace_through_a_value_filter_that_matches_nothing_is_no_target(scim):
    user = new_user(scim)
    response = patch(
        scim, user["id"], {"op": "replace", "path": 'emails[type eq "home"].value', "value": "h@x"}
    )
    assert_error(response, 400, "noTarget", "emails")


def test_add_of_a_new_primary_email_replaces_the_stored_one(scim):
    user = new_user(scim, emails=[{"value": "b@x.io", "primary": True}])
    body = patch(
        scim, user["id"], {"op": "add", "path": "emails", "value": [{"value": "a-new@x.io", "primary": True}]}
    ).get_json()
    assert body["emails"][0]["value"] == "a-new@x.io"
    body = patch(
        scim, user["id"], {"op": "add", "path": "emails", "value": [{"value": "z@x.io", "primary": True}]}
    ).get_json()
    assert body["emails"][0]["value"] == "z@x.io"


def test_operations_are_all_or_nothing(scim):
    user = new_user(scim, displayName="Before")
    response = patch(
        scim,
        user["id"],
        {"op": "replace", "path": "displayName", "value": "After"},
        {"op": "replace", "path": "userName", "value": "x" * 151},
    )
    assert_error(response, 400, "invalidValue", "userName")
    after = scim.get(f"/Users/{user['id']}").get_json()
    assert after == user


def test_read_only_attributes_cannot_be_patched(scim):
    user = new_user(scim)
    assert_error(
        patch(scim, user["id"], {"op": "replace", "path": "id", "value": "x"}), 400, "mutability", "id"
    )
    assert_error(
        patch(scim, user["id"], {"op": "add", "path": "groups", "value": [{"value": "g"}]}), 400, "mutability"
    )
    assert_error(patch(scim, user["id"], {"op": "replace", "value": {"id": "other"}}), 400, "mutability")
    same_id = patch(scim, user["id"], {"op": "replace", "value": {"id": user["id"], "displayName": "Z"}})
    assert same_id.status_code == 200


def test_unsupported_attributes_in_patch_are_ignored(scim):
    user = new_user(scim)
    response = patch(
        scim,
        user["id"],
        {"op": "add", "path": "title", "value": "Boss"},
        {"op": "replace", "path": f"{urns.ENTERPRISE_USER}:employeeNumber", "value": "1"},
        {"op": "add", "path": "name.middleName", "value": "Jane"},
    )
    assert response.status_code == 200
    assert "title" not in response.get_json()


def test_malformed_patch_bodies(scim):
    user = new_user(scim)
    url = f"/Users/{user['id']}"
    assert_error(scim.patch(url, json={"Operations": []}), 400, "invalidSyntax", "schemas")
    assert_error(scim.patch(url, json={"schemas": [urns.PATCH_OP], "Operations": []}), 400, "invalidSyntax")
    assert_error(patch(scim, user["id"], {"op": "jump", "path": "x"}), 400, "invalidSyntax", "jump")
    assert_error(patch(scim, user["id"], {"op": "remove"}), 400, "noTarget")
    assert_error(patch(scim, user["id"], {"op": "replace", "path": "displayName"}), 400, "invalidValue")
    assert_error(
        patch(scim, user["id"], {"op": "replace", "path": "emails[type eq]", "value": 1}), 400, "invalidPath"
    )
    assert_error(patch(scim, user["id"], {"op": "replace", "value": "flat"}), 400, "invalidValue")
    assert_error(scim.patch(url, json=[1, 2]), 400, "invalidSyntax")
    assert scim.get(url).get_json() == user


def test_patch_unknown_user_is_404(scim):
    assert_error(patch(scim, "missing", {"op": "replace", "path": "displayName", "value": "x"}), 404, None)


def test_active_cannot_be_removed_and_schema_says_it_is_required(scim):
    user = new_user(scim)
    response = patch(scim, user["id"], {"op": "remove", "path": "active"})
    assert_error(response, 400, "invalidValue", "active")
    schema = scim.get(f"/Schemas/{urns.USER}").get_json()
    active = next(a for a in schema["attributes"] if a["name"] == "active")
    assert active["required"] is True


def test_null_values_unassign_any_attribute(scim):
    user = new_user(
        scim, name={"givenName": "B", "familyName": "J"}, displayName="BJ", emails=[{"value": "b@x.io"}]
    )
    body = patch(
        scim,
        user["id"],
        {"op": "replace", "path": "name", "value": None},
        {"op": "replace", "path": "emails", "value": None},
        {"op": "add", "value": {"displayName": None}},
    ).get_json()
    for attribute in ("name", "emails", "displayName"):
        assert attribute not in body
