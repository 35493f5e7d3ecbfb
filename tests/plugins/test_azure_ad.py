"""Microsoft Entra ID (client ``azure_active_directory``): replays and the quirks of its dialect.

Evidence: IDP-QUIRKS §2 and cross-IdP rows 1-11, 17, 22, 23; payloads in ``tests/payloads/azure_ad/``.
Where the ``azure_ad`` plugin handles a quirk, a contrast test sends the same request with ``okta``
active and shows that the RFC-exact core alone refuses it: that is what proves the hook matters.
"""

from __future__ import annotations

import base64

from scimgate import configuration_utils
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
from tests.support.scim import ScimClient, configure_scim

CLIENT = "azure_active_directory"


def test_user_lifecycle_replay_leaves_the_user_updated_and_soft_deleted(app):
    scim, outcome = replay_file(app, "azure_ad", "user_lifecycle")
    v = outcome.variables
    stored = stored_user(app, v["user_id"])
    assert stored is not None
    assert stored.username == "5b50642d@testuser.com"
    assert (stored.first_name, stored.last_name) == ("givenName", "updatedFamilyName")
    assert stored.email == "updatedEmail@microsoft.com"
    assert stored.display_name == "Updated Display"
    assert stored.external_id == "0a21f0f2-8d2a-4f8e-bf98-000000000001"
    assert stored.is_active is False, 'the soft delete (Add active "False") must be stored'
    assert stored.client == CLIENT
    assert stored_user(app, v["second_id"]) is None
    body = scim.get(f"/Users/{v['user_id']}").get_json()
    assert body["active"] is False  # returned as a JSON boolean, not "False"


def test_email_upsert_replay_creates_the_work_email(app):
    _, outcome = replay_file(app, "azure_ad", "email_upsert")
    first = stored_user(app, outcome.variables["user_id"])
    later = stored_user(app, outcome.variables["second_id"])
    assert first is not None and first.email == "first@contoso.com"
    assert later is not None and later.email == "later@contoso.com"


def test_flagged_job_replay_applies_dotted_and_urn_keys_and_filter_removal(app):
    _, outcome = replay_file(app, "azure_ad", "flagged_job")
    v = outcome.variables
    stored = stored_user(app, v["user_id"])
    assert stored is not None
    assert (stored.first_name, stored.last_name, stored.display_name) == ("Henry", "Ross", "Henry Ross")
    assert stored.email == "henry.ross@contoso.com"
    assert stored_group(app, v["group_id"]) == ("Flagged Group", {v["user_id"]})
    member = stored_user(app, v["member_id"])
    assert member is not None and member.is_active is False


def test_group_lifecycle_replay_leaves_the_renamed_group_with_the_remaining_members(app):
    scim, outcome = replay_file(app, "azure_ad", "group_lifecycle")
    v = outcome.variables
    assert stored_group(app, v["group_id"]) == ("Entra Group Renamed", {v["u2"], v["u3"]})
    assert api_members(scim, v["group_id"]) == {v["u2"], v["u3"]}
    assert stored_group(app, v["doomed_id"]) is None


# --- the plugin's hooks, each with a contrast against the RFC-exact core -------------------------


def _both(app) -> tuple[ScimClient, ScimClient]:
    """One API client with okta active, then switch to Entra (no records exist, so it is allowed)."""
    okta = active_client(app, "okta")
    entra = active_client(app, CLIENT)
    return okta, entra


def test_capitalized_ops_are_accepted_only_through_the_plugin(app):
    """``azure_ad.scimgate_normalize_request`` lower-cases ``Replace``/``Add``/``Remove`` (row 1)."""
    entra = active_client(app, CLIENT)
    user = new_user(entra, "cap@contoso.com")
    body = patch_body({"op": "Replace", "path": "displayName", "value": "Capital"})
    assert entra.patch(f"/Users/{user['id']}", json=body).status_code == 200
    assert stored_user(app, user["id"]).display_name == "Capital"  # type: ignore[union-attr]

    entra.delete(f"/Users/{user['id']}")
    okta = active_client(app, "okta")
    other = new_user(okta, "cap2")
    refused = okta.patch(f"/Users/{other['id']}", json=body)
    assert refused.status_code == 400 and refused.get_json()["scimType"] == "invalidSyntax"


def test_string_booleans_in_post_and_patch_are_coerced_only_through_the_plugin(app):
    """``"True"``/``"False"``/``"false"`` become JSON booleans for Entra (row 2), never for okta."""
    okta = active_client(app, "okta")
    refused = okta.post("/Users", json={"schemas": [urns.USER], "userName": "strict", "active": "True"})
    assert refused.status_code == 400 and refused.get_json()["scimType"] == "invalidValue"

    entra = active_client(app, CLIENT)
    created = entra.post(
        "/Users", json={"schemas": [urns.USER], "userName": "s@contoso.com", "active": "True"}
    )
    assert created.status_code == 201 and created.get_json()["active"] is True
    user_id = created.get_json()["id"]
    for value, expected in (("False", False), ("true", True), ("false", False)):
        response = entra.patch(
            f"/Users/{user_id}", json=patch_body({"op": "Replace", "path": "active", "value": value})
        )
        assert response.status_code == 200 and response.get_json()["active"] is expected
    assert stored_user(app, user_id).is_active is False  # type: ignore[union-attr]


def test_path_less_replace_with_a_filtered_email_key_creates_the_email(app):
    """``azure_ad.scimgate_normalize_request`` splits ``emails[type eq "work"].value`` out of a
    path-less replace into an ``add`` (rows 3 and 5); the RFC-exact core answers ``noTarget``."""
    body = patch_body({"op": "replace", "value": {'emails[type eq "work"].value': "w@contoso.com"}})
    okta = active_client(app, "okta")
    plain = new_user(okta, "plain")
    refused = okta.patch(f"/Users/{plain['id']}", json=body)
    assert refused.status_code == 400 and refused.get_json()["scimType"] == "noTarget"
    okta.delete(f"/Users/{plain['id']}")

    entra = active_client(app, CLIENT)
    user = new_user(entra, "w@contoso.com")
    response = entra.patch(f"/Users/{user['id']}", json=body)
    assert response.status_code == 200, response.get_json()
    assert stored_user(app, user["id"]).email == "w@contoso.com"  # type: ignore[union-attr]


def test_work_email_value_path_filter_is_rewritten_only_for_entra(app):
    """``azure_ad.scimgate_normalize_filter``: ``emails[type eq "work"].value eq "x"`` (row 13)."""
    query = {"filter": 'emails[type eq "work"].value eq "match@contoso.com"'}
    okta = active_client(app, "okta")
    refused = okta.get("/Users", query_string=query)
    assert refused.status_code == 400 and refused.get_json()["scimType"] == "invalidFilter"

    entra = active_client(app, CLIENT)
    user = new_user(entra, "m", emails=[{"value": "match@contoso.com", "type": "work", "primary": True}])
    new_user(entra, "n", emails=[{"value": "match@contoso.com", "type": "home"}])
    found = entra.get("/Users", query_string=query).get_json()
    assert [r["id"] for r in found["Resources"]] == [user["id"]]


def test_group_patch_is_answered_204_for_entra_and_200_for_others(app):
    """``azure_ad.scimgate_tune_response``: Entra wants 204 on group PATCH (row 17)."""
    okta = active_client(app, "okta")
    group = okta.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "G"}).get_json()
    body = patch_body({"op": "replace", "path": "displayName", "value": "G2"})
    assert okta.patch(f"/Groups/{group['id']}", json=body).status_code == 200
    okta.delete(f"/Groups/{group['id']}")

    entra = active_client(app, CLIENT)
    group = entra.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "G"}).get_json()
    response = entra.patch(f"/Groups/{group['id']}", json=body)
    assert response.status_code == 204 and response.get_data() == b""
    assert "Location" not in response.headers
    assert entra.get(f"/Groups/{group['id']}").get_json()["displayName"] == "G2"
    # user PATCH keeps its 200 and body: only group PATCH is tuned
    user = new_user(entra, "u@contoso.com")
    patched = entra.patch(
        f"/Users/{user['id']}", json=patch_body({"op": "Replace", "path": "active", "value": "False"})
    )
    assert patched.status_code == 200 and patched.get_json()["active"] is False


def test_remove_members_with_a_value_list_removes_only_those(app):
    """Entra's default job: ``Remove`` with ``path: members`` and a value list (row 9). The literal
    RFC reading would remove every member; the core's safe reading applies to every client."""
    entra = active_client(app, CLIENT)
    a, b = new_user(entra, "a@contoso.com"), new_user(entra, "b@contoso.com")
    group = entra.post(
        "/Groups",
        json={
            "schemas": [urns.GROUP],
            "displayName": "Two",
            "members": [{"value": a["id"]}, {"value": b["id"]}],
        },
    )
    group_id = group.get_json()["id"]
    body = patch_body({"op": "Remove", "path": "members", "value": [{"$ref": None, "value": a["id"]}]})
    assert entra.patch(f"/Groups/{group_id}", json=body).status_code == 204
    assert stored_group(app, group_id) == ("Two", {b["id"]})


def test_entra_plugin_registers_its_client_and_allows_bearer_only(app):
    """``azure_ad.scimgate_register_clients`` and ``azure_ad.scimgate_auth_schemes`` (row 22)."""
    host = get_host(app)
    assert host.manager.get_name(host.served_by[CLIENT]) == "scimgate_plugins.azure_ad"
    assert host.hooks_for(CLIENT).auth_schemes() == ("bearer",)
    assert host.hooks_for("okta").auth_schemes() == ("bearer", "basic")


BASIC_USER = "scim_account@example.com"
BASIC_PASSWORD = "scim_account_password_12345&&"


def _basic_headers() -> dict[str, str]:
    raw = base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def test_basic_credentials_are_refused_for_entra_while_bearer_works_and_okta_accepts_basic(app, client):
    """The reference: "Azure AD requires token authentication" (``scimgate_auth_schemes``).

    Written as ``xfail(strict=True)`` until scimgate/api/auth.py consulted the hook; the lead wired it
    (commit 0b6287c), so the marker is gone and this is a plain test."""
    configure_scim(app, "okta")
    with app.app_context():
        configuration_utils.set_scim_basic_auth_username(BASIC_USER)
        configuration_utils.set_scim_basic_auth_password(BASIC_PASSWORD)
    assert client.get("/scim/v2/Users", headers=_basic_headers()).status_code == 200

    bearer = configure_scim(app, CLIENT)
    assert client.get("/scim/v2/Users", headers=bearer).status_code == 200
    refused = client.get("/scim/v2/Users", headers=_basic_headers())
    assert refused.status_code == 401
    assert refused.get_json()["schemas"] == [urns.ERROR]


def test_azure_ad_setup_guide_is_tenant_url_and_secret_token(app):
    """``azure_ad.scimgate_setup_guide``: Tenant URL and Secret Token, bearer only (docs/idp/azure_ad.md)."""
    guide = check_setup_guide_against_its_doc(get_host(app), "azure_active_directory")
    assert guide.base_url_label == "Tenant URL"
    assert list(guide.auth_modes) == ["bearer"] and guide.auth_modes["bearer"].startswith("Secret Token")
    assert ("Provisioning Mode", "Automatic") in [(f.label, f.value) for f in guide.fields]
    assert guide.doc == "docs/idp/azure_ad.md"
