"""PingFederate (client ``pingfederate``): PUT-only provisioning, replayed and checked in storage.

Evidence: IDP-QUIRKS §3 and cross-IdP rows 9, 13, 14, 16, 18, 19, 20; payloads in
``tests/payloads/pingfederate/``. Every PingFederate quirk is a core safe reading, so the tests run
with ``pingfederate`` active and assert what is stored.
"""

from __future__ import annotations

from scimgate.plugin_host import get_host
from scimgate.scim import urns
from tests.support.plugins import (
    active_client,
    api_members,
    check_setup_guide_against_its_doc,
    new_user,
    replay_file,
    stored_group,
    stored_user,
)


def test_user_lifecycle_replay_leaves_the_user_updated_and_disabled(app):
    scim, outcome = replay_file(app, "pingfederate", "user_lifecycle")
    v = outcome.variables
    stored = stored_user(app, v["user_id"])
    assert stored is not None
    assert (stored.username, stored.first_name, stored.last_name) == ("jdoe", "John", "Doe-Smith")
    assert stored.email == "jdoe@example.com"
    assert stored.external_id == "cn=jdoe,ou=people,dc=example,dc=com"
    assert stored.is_active is False
    assert stored.client == "pingfederate"
    assert stored_user(app, v["leaver_id"]) is None
    emails = scim.get(f"/Users/{v['user_id']}").get_json()["emails"]
    assert emails == [{"value": "jdoe@example.com", "type": "work", "primary": True}]


def test_group_lifecycle_replay_leaves_the_put_member_list(app):
    scim, outcome = replay_file(app, "pingfederate", "group_lifecycle")
    v = outcome.variables
    name = "cn=Engineering,ou=groups,dc=example,dc=com"
    assert stored_group(app, v["group_id"]) == (name, {v["u2"], v["u3"]})
    assert api_members(scim, v["group_id"]) == {v["u2"], v["u3"]}
    assert stored_group(app, v["obsolete_id"]) is None


def test_put_without_active_keeps_the_user_active(app):
    """PingFederate's PUT may omit ``active`` (row 19): a literal "omitted = cleared" would disable."""
    scim = active_client(app, "pingfederate")
    user = new_user(scim, "keep", active=True)
    response = scim.put(
        f"/Users/{user['id']}", json={"schemas": [urns.USER], "userName": "keep", "name": {"givenName": "K"}}
    )
    assert response.status_code == 200 and response.get_json()["active"] is True
    assert stored_user(app, user["id"]).is_active is True  # type: ignore[union-attr]


def test_two_primary_emails_are_tolerated_not_a_400(app):
    """ "the connector populates both ... and sets both as primary" (row 20)."""
    scim = active_client(app, "pingfederate")
    user = new_user(
        scim,
        "two",
        emails=[
            {"value": "b@example.com", "type": "work", "primary": True},
            {"value": "a@example.com", "type": "home", "primary": True},
        ],
    )
    assert stored_user(app, user["id"]).email == "a@example.com"  # type: ignore[union-attr]


def test_listing_groups_without_filter_returns_a_page_of_up_to_1000(app):
    """Groups are found by listing them all (row 14, Results Per Page default 1000): a page capped
    below ``count`` would make PingFederate, which advances ``startIndex`` by its own page size,
    skip groups and create duplicates."""
    scim = active_client(app, "pingfederate")
    config = scim.get("/ServiceProviderConfig").get_json()
    assert config["filter"]["maxResults"] >= 1000
    ids = {
        scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": f"g{i:03}"}).get_json()["id"]
        for i in range(110)
    }
    page = scim.get("/Groups", query_string={"startIndex": 1, "count": 1000}).get_json()
    assert (page["totalResults"], page["itemsPerPage"], page["startIndex"]) == (110, 110, 1)
    assert {g["id"] for g in page["Resources"]} == ids


def test_pingfederate_plugin_registers_its_client(app):
    """``pingfederate.scimgate_register_clients``."""
    host = get_host(app)
    assert host.manager.get_name(host.served_by["pingfederate"]) == "scimgate_plugins.pingfederate"


def test_pingfederate_setup_guide_names_the_target_screen(app):
    """``pingfederate.scimgate_setup_guide``: SCIM URL, OAuth 2 Bearer Token or Basic (docs/idp)."""
    guide = check_setup_guide_against_its_doc(get_host(app), "pingfederate")
    assert guide.base_url_label == "SCIM URL"
    assert guide.auth_modes == {"bearer": "OAuth 2 Bearer Token", "basic": "Basic Authentication"}
    assert ("Unique User Identifier", "userName") in [(f.label, f.value) for f in guide.fields]
