"""Okta (client ``okta``): replays of the OIN request sequences and the quirks they carry.

Evidence: IDP-QUIRKS §1 and the cross-IdP rows 3, 9, 10, 12, 15, 17, 18, 19, 24; payloads in
``tests/payloads/okta/``. Every Okta quirk is handled by a core safe reading, so these tests run
with ``okta`` active and check what is finally stored.
"""

from __future__ import annotations

from scimgate.plugin_host import get_host
from scimgate.scim import urns
from tests.support.plugins import (
    active_client,
    api_members,
    check_setup_guide_against_its_doc,
    new_user,
    patch_body,
    replay_file,
    stored_group,
    stored_user,
)


def test_oin_user_lifecycle_replay_leaves_the_user_updated_and_deactivated(app):
    """Create, PUT profile update, path-less ``replace`` of ``active`` (off, on, off): IDP-QUIRKS §1."""
    scim, outcome = replay_file(app, "okta", "user_lifecycle")
    user_id = outcome.variables["user_id"]

    stored = stored_user(app, user_id)
    assert stored is not None, "Okta never deletes: the user must still exist"
    assert (stored.username, stored.first_name, stored.last_name) == (
        "test.user@okta.local",
        "Another",
        "User",
    )
    assert stored.email == "another.user@okta.local"
    assert stored.display_name == "Another User"
    assert stored.external_id == "00ujl29u0le5T6Aj10h7"
    assert stored.is_active is False
    assert stored.client == "okta"

    body = scim.get(f"/Users/{user_id}").get_json()
    assert body["active"] is False
    assert body["name"] == {"givenName": "Another", "familyName": "User"}
    assert "password" not in body and "locale" not in body


def test_group_push_replay_leaves_the_renamed_group_with_the_pushed_members(app):
    """Remove-non-member + add, rename carrying ``id``, ``replace members``, user PUT with ``groups: []``."""
    scim, outcome = replay_file(app, "okta", "group_push")
    v = outcome.variables

    stored = stored_group(app, v["group_id"])
    assert stored == ("Test SCIMv2 Renamed", {v["bob_id"], v["carol_id"]})
    assert api_members(scim, v["group_id"]) == {v["bob_id"], v["carol_id"]}
    assert stored_group(app, v["temp_id"]) is None
    bob = stored_user(app, v["bob_id"])
    assert bob is not None and bob.first_name == "Robert"


def test_rename_carrying_the_read_only_id_is_not_a_mutability_error(app):
    """A literal reading answers 400 ``mutability`` to the read-only ``id`` and breaks Group Push."""
    scim = active_client(app, "okta")
    alice = new_user(scim, "alice")
    group = scim.post(
        "/Groups",
        json={"schemas": [urns.GROUP], "displayName": "Before", "members": [{"value": alice["id"]}]},
    ).get_json()
    response = scim.patch(
        f"/Groups/{group['id']}",
        json=patch_body({"op": "replace", "value": {"id": group["id"], "displayName": "After"}}),
    )
    assert response.status_code == 200, response.get_json()
    assert stored_group(app, group["id"]) == ("After", {alice["id"]})
    # ...but a *different* id is still refused: the read-only attribute never changes.
    other = scim.patch(
        f"/Groups/{group['id']}", json=patch_body({"op": "replace", "value": {"id": "x", "displayName": "Y"}})
    )
    assert other.status_code == 400 and other.get_json()["scimType"] == "mutability"


def test_upper_cased_username_filter_answers_200_with_an_empty_list(app):
    """The spec test filters ``userName eq "<UPPER>"`` and needs 200. The reference makes usernames
    case-sensitive, which wins over IDP-QUIRKS row 12: the answer is an empty ListResponse, not 404."""
    scim = active_client(app, "okta")
    new_user(scim, "test.user@okta.local")
    upper = scim.get("/Users", query_string={"filter": 'userName eq "TEST.USER@OKTA.LOCAL"', "count": 1})
    assert upper.status_code == 200
    assert upper.get_json()["totalResults"] == 0
    exact = scim.get("/Users", query_string={"filter": 'userName eq "test.user@okta.local"'})
    assert exact.get_json()["totalResults"] == 1


def test_put_with_groups_empty_never_changes_memberships(app):
    """Okta's PUT carries ``groups: []``: the read-only ``groups`` must not empty the user's groups."""
    scim = active_client(app, "okta")
    bob = new_user(scim, "bob", active=True)
    group = scim.post(
        "/Groups", json={"schemas": [urns.GROUP], "displayName": "Keep", "members": [{"value": bob["id"]}]}
    ).get_json()
    response = scim.put(
        f"/Users/{bob['id']}",
        json={
            "schemas": [urns.USER],
            "userName": "bob",
            "groups": [],
            "password": "p",
            "meta": {"resourceType": "User"},
            "active": True,
        },
    )
    assert response.status_code == 200, response.get_json()
    assert stored_group(app, group["id"]) == ("Keep", {bob["id"]})


def test_okta_plugin_registers_its_client(app):
    """``okta.scimgate_register_clients``: the reference's default client is served by the Okta plugin."""
    host = get_host(app)
    assert host.manager.get_name(host.served_by["okta"]) == "scimgate_plugins.okta"
    assert host.profiles["okta"].label == "Okta"


def test_okta_setup_guide_names_okta_fields(app):
    """``okta.scimgate_setup_guide``: Okta's own labels (docs/idp/okta.md), both auth modes."""
    guide = check_setup_guide_against_its_doc(get_host(app), "okta")
    assert guide.base_url_label == "SCIM connector base URL"
    assert guide.auth_modes == {"bearer": "HTTP Header", "basic": "Basic Auth"}
    assert ("Unique identifier field for users", "userName") in [(f.label, f.value) for f in guide.fields]
    assert "Deactivate Users" in guide.actions and guide.doc == "docs/idp/okta.md"
