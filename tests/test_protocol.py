"""Protocol details: media types, errors for routing and bodies, discovery (RFC 7644 §3.1, §3.12, §4)."""

from __future__ import annotations

import pytest

from scimgate.scim import urns
from tests.support.resources import assert_error


def test_unknown_route_under_scim_is_404_with_scim_body(scim):
    assert_error(scim.get("/Nope"), 404, None, "/scim/v2/Nope")
    assert_error(scim.get("/Users/abc/extra"), 404, None)


def test_wrong_method_is_405_with_scim_body(scim):
    response = scim.delete("/Users")
    assert_error(response, 405, None, "DELETE")
    assert "GET" in response.headers["Allow"]


def test_bulk_and_me_are_501(scim):
    assert_error(scim.post("/Bulk", json={"schemas": [urns.BULK_REQUEST]}), 501, None, "Bulk")
    assert_error(scim.get("/Me"), 501, None, "/Me")


@pytest.mark.parametrize(
    "content_type",
    ["application/scim+json", "application/scim+json; charset=utf-8", "application/json", None],
)
def test_accepted_request_media_types(scim, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a"}'
    response = scim.post("/Users", data=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.headers["Content-Type"] == "application/scim+json; charset=utf-8"


def test_other_media_types_are_415(scim):
    response = scim.post(
        "/Users", data=b"userName=a", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_error(response, 415, None, "application/scim+json")


@pytest.mark.parametrize(
    ("data", "word"),
    [(b"{", "JSON"), (b"", "body"), (b'["a"]', "object"), (b"\xff\xfe", "UTF-8"), (b'"x"', "object")],
)
def test_unparseable_bodies_are_400_invalid_syntax(scim, data, word):
    response = scim.post("/Users", data=data, headers={"Content-Type": "application/scim+json"})
    assert_error(response, 400, "invalidSyntax", word)
    assert scim.get("/Users").get_json()["totalResults"] == 0


def test_unknown_query_parameters_are_ignored(scim):
    assert scim.get("/Users", query_string={"aadOptscim062020": "", "foo": "bar"}).status_code == 200


def test_service_provider_config(scim):
    body = scim.get("/ServiceProviderConfig").get_json()
    assert body["schemas"] == [urns.SERVICE_PROVIDER_CONFIG]
    assert body["patch"] == {"supported": True}
    assert body["bulk"]["supported"] is False
    assert body["filter"] == {"supported": True, "maxResults": 1000}
    assert body["etag"] == {"supported": True}
    assert body["sort"] == {"supported": True}
    assert body["changePassword"] == {"supported": False}
    assert {s["type"] for s in body["authenticationSchemes"]} == {"oauthbearertoken", "httpbasic"}


def test_resource_types(scim):
    body = scim.get("/ResourceTypes").get_json()
    assert body["schemas"] == [urns.LIST_RESPONSE]
    assert {r["id"]: r["endpoint"] for r in body["Resources"]} == {"User": "/Users", "Group": "/Groups"}
    user = scim.get("/ResourceTypes/User").get_json()
    assert user["schema"] == urns.USER
    assert user["meta"]["location"].endswith("/scim/v2/ResourceTypes/User")
    assert_error(scim.get("/ResourceTypes/Device"), 404, None, "Device")


def test_schemas_describe_exactly_what_is_supported(scim):
    body = scim.get("/Schemas").get_json()
    assert {s["id"] for s in body["Resources"]} == {urns.USER, urns.GROUP}
    user = scim.get(f"/Schemas/{urns.USER}").get_json()
    attributes = {a["name"]: a for a in user["attributes"]}
    assert set(attributes) == {"userName", "name", "displayName", "emails", "active", "groups"}
    assert attributes["userName"]["caseExact"] is True
    assert attributes["userName"]["uniqueness"] == "server"
    assert attributes["userName"]["required"] is True
    assert attributes["groups"]["mutability"] == "readOnly"
    assert {s["name"] for s in attributes["name"]["subAttributes"]} == {"givenName", "familyName"}
    assert "one is stored" in attributes["emails"]["description"]
    group = scim.get(f"/Schemas/{urns.GROUP}").get_json()
    group_attributes = {a["name"]: a for a in group["attributes"]}
    assert group_attributes["displayName"]["caseExact"] is True
    assert_error(scim.get(f"/Schemas/{urns.ENTERPRISE_USER}"), 404, None)


def test_discovery_refuses_filters(scim):
    assert_error(scim.get("/Schemas", query_string={"filter": 'id eq "x"'}), 403, None, "filter")


def test_unknown_routes_and_wrong_methods_need_credentials_first(client, scim_headers):
    for method, path in (("GET", "/scim/v2/Nope"), ("DELETE", "/scim/v2/Users")):
        response = client.open(path, method=method)
        assert_error(response, 401, None)
        assert response.headers.get_all("WWW-Authenticate")


def test_the_clients_plugin_decides_the_allowed_schemes(app, client):
    from scimgate import configuration_utils as cu
    from tests.support.scim import configure_scim

    configure_scim(app, "azure_active_directory")
    password = "correct-horse-battery-9!x"
    with app.app_context():
        cu.set_scim_basic_auth_username("scim-service")
        cu.set_scim_basic_auth_password(password)
        token = cu.generate_scim_bearer_token(1)
    basic = client.get("/scim/v2/Users", auth=("scim-service", password))
    assert_error(basic, 401, None)
    assert basic.headers.get_all("WWW-Authenticate") == ['Bearer realm="scimgate SCIM"']
    assert client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app.app_context():
        cu.disable_sync_from_directory_provider()
        cu.update_scim_client("okta")
        cu.enable_scim_user_and_group_sync()
    assert client.get("/scim/v2/Users", auth=("scim-service", password)).status_code == 200
