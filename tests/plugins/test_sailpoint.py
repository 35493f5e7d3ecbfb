"""SailPoint IdentityIQ and Identity Security Cloud (client ``sailpoint``): replays and state.

Evidence: IDP-QUIRKS §4, §5 and cross-IdP rows 3, 4, 11, 13, 20, 21; payloads in
``tests/payloads/sailpoint/``. Both products share the one client name; their quirks are core safe
readings, so the tests run with ``sailpoint`` active and assert what is stored.
"""

from __future__ import annotations

from scimgate.plugin_host import get_host
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


def test_discovery_replay_serves_every_endpoint_the_connector_requires(app):
    _, outcome = replay_file(app, "sailpoint", "discovery")
    user_schema = outcome.responses["the core User schema by URN"].get_json()
    names = {a["name"] for a in user_schema["attributes"]}
    assert {"userName", "name", "emails", "active", "groups"} <= names


def test_account_lifecycle_replay_merges_name_parts_and_keeps_the_account_enabled(app):
    scim, outcome = replay_file(app, "sailpoint", "account_lifecycle")
    v = outcome.variables
    stored = stored_user(app, v["user_id"])
    assert stored is not None
    assert (stored.first_name, stored.last_name) == ("testGivenName", "testFamily")
    assert stored.email == "jane.new@example.com"
    assert stored.is_active is True
    assert stored.client == "sailpoint"
    assert stored_user(app, v["leaver_id"]) is None
    assert stored_group(app, v["group_id"]) == ("Finance Approvers", {v["user_id"]})
    assert api_members(scim, v["group_id"]) == {v["user_id"]}


def test_path_less_add_of_active_false_disables(app):
    """ISC enable/disable: ``[{"op":"add","value":{"active":false}}]`` (forum 7752; row 4)."""
    scim = active_client(app, "sailpoint")
    user = new_user(scim, "sp.off", active=True)
    response = scim.patch(f"/Users/{user['id']}", json=patch_body({"op": "add", "value": {"active": False}}))
    assert response.status_code == 200
    assert stored_user(app, user["id"]).is_active is False  # type: ignore[union-attr]


def test_one_replace_per_name_part_never_clears_the_other_part(app):
    """SCIM-SDK#327: a server replacing ``name`` wholesale lost familyName (row 3, RFC 7644 §3.5.2.3)."""
    scim = active_client(app, "sailpoint")
    user = new_user(scim, "sp.name", name={"givenName": "Given", "familyName": "Family"})
    scim.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "replace", "value": {"name": {"familyName": "F2"}}})
    )
    assert stored_user(app, user["id"]).first_name == "Given"  # type: ignore[union-attr]
    scim.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "replace", "value": {"name": {"givenName": "G2"}}})
    )
    stored = stored_user(app, user["id"])
    assert stored is not None and (stored.first_name, stored.last_name) == ("G2", "F2")


def test_sailpoint_plugin_registers_one_client_for_both_products(app):
    """``sailpoint.scimgate_register_clients``: IdentityIQ and IdentityNow share ``sailpoint``."""
    host = get_host(app)
    assert host.manager.get_name(host.served_by["sailpoint"]) == "scimgate_plugins.sailpoint"
    assert "IdentityIQ" in host.profiles["sailpoint"].description
    assert "IdentityNow" in host.profiles["sailpoint"].description


def test_sailpoint_setup_guide_names_the_source_fields(app):
    """``sailpoint.scimgate_setup_guide``: Base URL, API Token or Basic (docs/idp/sailpoint.md)."""
    guide = check_setup_guide_against_its_doc(get_host(app), "sailpoint")
    assert guide.base_url_label == "Base URL"
    assert guide.auth_modes == {"bearer": "API Token", "basic": "Basic Authentication"}
    assert ("Non-compliant Server?", "unchecked") in [(f.label, f.value) for f in guide.fields]
