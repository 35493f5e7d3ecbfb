"""/Groups: members are Users only; inactive members are hidden but kept (the reference)."""

from __future__ import annotations

from scimgate.scim import urns
from tests.support.resources import assert_error, new_group, new_user
from tests.support.sql_counter import count_statements, touching


def patch(scim, group_id: str, *operations: dict, **kwargs):
    return scim.patch(
        f"/Groups/{group_id}", json={"schemas": [urns.PATCH_OP], "Operations": list(operations)}, **kwargs
    )


def member_ids(scim, group_id: str) -> set[str]:
    body = scim.get(f"/Groups/{group_id}").get_json()
    return {m["value"] for m in body.get("members", [])}


def test_create_group_with_members(scim):
    alice = new_user(scim, "alice", displayName="Alice A")
    response = scim.post(
        "/Groups",
        json={"schemas": [urns.GROUP], "displayName": "Tour Guides", "members": [{"value": alice["id"]}]},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == body["meta"]["location"]
    assert body["displayName"] == "Tour Guides"
    assert body["members"] == [
        {
            "value": alice["id"],
            "$ref": f"http://localhost/scim/v2/Users/{alice['id']}",
            "type": "User",
        }
    ]
    # display is ``returned: request``: only when named in ``attributes``
    named = scim.get(f"/Groups/{body['id']}", query_string={"attributes": "members.value,members.display"})
    assert named.get_json()["members"] == [{"value": alice["id"], "display": "Alice A"}]
    user = scim.get(f"/Users/{alice['id']}").get_json()
    assert user["groups"] == [
        {
            "value": body["id"],
            "$ref": f"http://localhost/scim/v2/Groups/{body['id']}",
            "display": "Tour Guides",
        }
    ]


def test_unknown_ids_and_nested_groups_are_ignored_not_errors(scim):
    alice = new_user(scim, "alice")
    other = new_group(scim, "Other")
    response = scim.post(
        "/Groups",
        json={
            "schemas": [urns.GROUP],
            "displayName": "Mixed",
            "members": [
                {"value": alice["id"]},
                {"value": "no-such-user"},
                {"value": other["id"], "type": "Group"},
                {"value": other["id"]},
                {"display": "no value"},
                "garbage",
            ],
        },
    )
    assert response.status_code == 201
    assert [m["value"] for m in response.get_json()["members"]] == [alice["id"]]


def test_duplicate_display_name_is_409_and_names_are_case_sensitive(scim):
    new_group(scim, "Admins")
    assert_error(
        scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "Admins"}),
        409,
        "uniqueness",
        "Admins",
    )
    assert new_group(scim, "admins")["displayName"] == "admins"


def test_display_name_limits(scim):
    assert new_group(scim, "g" * 1000)["displayName"] == "g" * 1000
    assert_error(
        scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "g" * 1001}),
        400,
        "invalidValue",
        "displayName",
    )
    assert_error(
        scim.post("/Groups", json={"schemas": [urns.GROUP], "members": []}),
        400,
        "invalidValue",
        "displayName",
    )


def test_multibyte_names_at_the_limit_are_unique_too(scim):
    name = "群" * 1000
    new_group(scim, name)
    assert_error(scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": name}), 409, "uniqueness")


def test_inactive_members_are_hidden_but_kept(scim):
    alice = new_user(scim, "alice")
    bob = new_user(scim, "bob")
    group = new_group(scim, members=[alice["id"], bob["id"]])
    off = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]}
    scim.patch(f"/Users/{bob['id']}", json=off)
    assert member_ids(scim, group["id"]) == {alice["id"]}
    found = scim.get("/Groups", query_string={"filter": f'members.value eq "{bob["id"]}"'}).get_json()
    assert found["totalResults"] == 0
    on = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "value": {"active": True}}]}
    scim.patch(f"/Users/{bob['id']}", json=on)
    assert member_ids(scim, group["id"]) == {alice["id"], bob["id"]}


def test_patch_add_and_remove_members(scim):
    alice, bob, carol = (new_user(scim, n)["id"] for n in ("alice", "bob", "carol"))
    group = new_group(scim, members=[alice])
    response = patch(
        scim, group["id"], {"op": "add", "path": "members", "value": [{"value": bob}, {"value": carol}]}
    )
    assert response.status_code == 200
    assert {m["value"] for m in response.get_json()["members"]} == {alice, bob, carol}
    assert (
        patch(scim, group["id"], {"op": "add", "path": "members", "value": [{"value": bob}]}).status_code
        == 200
    )
    patch(scim, group["id"], {"op": "remove", "path": f'members[value eq "{alice}"]'})
    assert member_ids(scim, group["id"]) == {bob, carol}


def test_okta_remove_of_a_non_member_and_add_in_one_request(scim):
    alice, bob = new_user(scim, "alice")["id"], new_user(scim, "bob")["id"]
    group = new_group(scim, members=[alice])
    response = patch(
        scim,
        group["id"],
        {"op": "remove", "path": 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]'},
        {"op": "add", "path": "members", "value": [{"value": bob, "display": "bob"}]},
    )
    assert response.status_code == 200
    assert member_ids(scim, group["id"]) == {alice, bob}


def test_remove_with_a_value_list_removes_only_those_members(scim):
    alice, bob = new_user(scim, "alice")["id"], new_user(scim, "bob")["id"]
    group = new_group(scim, members=[alice, bob])
    patch(scim, group["id"], {"op": "remove", "path": "members", "value": [{"value": alice}]})
    assert member_ids(scim, group["id"]) == {bob}
    patch(scim, group["id"], {"op": "remove", "path": "members"})
    assert member_ids(scim, group["id"]) == set()


def test_replace_members_with_the_full_list(scim):
    alice, bob, carol = (new_user(scim, n)["id"] for n in ("alice", "bob", "carol"))
    group = new_group(scim, members=[alice, bob])
    patch(scim, group["id"], {"op": "replace", "path": "members", "value": [{"value": carol}]})
    assert member_ids(scim, group["id"]) == {carol}


def test_pathless_rename_carrying_the_id_never_touches_members(scim):
    alice = new_user(scim, "alice")["id"]
    group = new_group(scim, members=[alice])
    response = patch(
        scim, group["id"], {"op": "replace", "value": {"id": group["id"], "displayName": "Renamed"}}
    )
    assert response.status_code == 200
    assert response.get_json()["displayName"] == "Renamed"
    assert member_ids(scim, group["id"]) == {alice}


def test_pathless_value_with_members_key_changes_members(scim):
    alice, bob = new_user(scim, "alice")["id"], new_user(scim, "bob")["id"]
    group = new_group(scim, members=[alice])
    patch(scim, group["id"], {"op": "add", "value": {"members": [{"value": bob}]}})
    assert member_ids(scim, group["id"]) == {alice, bob}


def test_group_patch_is_all_or_nothing(scim):
    alice, bob = new_user(scim, "alice")["id"], new_user(scim, "bob")["id"]
    group = new_group(scim, members=[alice])
    new_group(scim, "Taken")
    response = patch(
        scim,
        group["id"],
        {"op": "add", "path": "members", "value": [{"value": bob}]},
        {"op": "replace", "path": "displayName", "value": "Taken"},
    )
    assert_error(response, 409, "uniqueness", "Taken")
    assert member_ids(scim, group["id"]) == {alice}
    assert scim.get(f"/Groups/{group['id']}").get_json()["displayName"] == "Tour Guides"


def test_put_replaces_members_and_a_put_without_members_keeps_them(scim):
    alice, bob = new_user(scim, "alice")["id"], new_user(scim, "bob")["id"]
    group = new_group(scim, members=[alice])
    body = {
        "schemas": [urns.GROUP],
        "displayName": "Guides",
        "members": [{"value": bob}],
        "id": "x",
        "meta": {},
    }
    response = scim.put(f"/Groups/{group['id']}", json=body)
    assert response.status_code == 200
    assert response.get_json()["displayName"] == "Guides"
    assert member_ids(scim, group["id"]) == {bob}
    scim.put(f"/Groups/{group['id']}", json={"schemas": [urns.GROUP], "displayName": "Guides 2"})
    assert member_ids(scim, group["id"]) == {bob}
    scim.put(
        f"/Groups/{group['id']}", json={"schemas": [urns.GROUP], "displayName": "Guides 2", "members": []}
    )
    assert member_ids(scim, group["id"]) == set()


def test_delete_group_keeps_users(scim):
    alice = new_user(scim, "alice")["id"]
    group = new_group(scim, members=[alice])
    assert scim.delete(f"/Groups/{group['id']}").status_code == 204
    assert_error(scim.get(f"/Groups/{group['id']}"), 404, None)
    assert "groups" not in scim.get(f"/Users/{alice}").get_json()


def test_deleting_a_user_removes_its_memberships(scim):
    alice, bob = new_user(scim, "alice")["id"], new_user(scim, "bob")["id"]
    group = new_group(scim, members=[alice, bob])
    scim.delete(f"/Users/{alice}")
    assert member_ids(scim, group["id"]) == {bob}


def test_excluded_members_never_loads_membership_rows(app, scim):
    users = [new_user(scim, f"user{i}")["id"] for i in range(5)]
    group = new_group(scim, members=users)
    with count_statements(app) as statements:
        body = scim.get(f"/Groups/{group['id']}", query_string={"excludedAttributes": "members"}).get_json()
    assert "members" not in body
    assert touching(statements, "group_membership") == []
    with count_statements(app) as statements:
        body = scim.get(f"/Groups/{group['id']}").get_json()
    assert len(body["members"]) == 5
    assert len(touching(statements, "group_membership")) == 1


def test_filter_groups_by_display_name_and_member(scim):
    alice = new_user(scim, "alice")["id"]
    new_group(scim, "A", members=[alice])
    new_group(scim, "B")
    found = scim.get("/Groups", query_string={"filter": 'displayName eq "A"'}).get_json()
    assert [g["displayName"] for g in found["Resources"]] == ["A"]
    assert scim.get("/Groups", query_string={"filter": 'displayName eq "a"'}).get_json()["totalResults"] == 0
    found = scim.get("/Groups", query_string={"filter": f'members[value eq "{alice}"]'}).get_json()
    assert [g["displayName"] for g in found["Resources"]] == ["A"]
