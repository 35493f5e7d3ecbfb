"""Issue 16: ``schemas`` is required (RFC 7643 §3, RFC 7644 §3.5.2): a User or Group POST or PUT
without it, or without the endpoint's core schema, is 400 ``invalidValue``; a PATCH without the
PatchOp schema is 400 ``invalidSyntax``. Nothing changes. A client's plugin, and only its plugin,
may add the schema for an IdP known to omit it (``scimgate_normalize_request``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from scimgate.extensions import db
from scimgate.hookspecs import ClientProfile, hookimpl
from scimgate.scim import urns
from tests.support.bad_input import assert_scim_error
from tests.support.config import sibling_app
from tests.support.scim import ScimClient, configure_scim

MISSING = [
    pytest.param({}, "required", id="absent"),
    pytest.param({"schemas": None}, "required", id="null"),
    pytest.param({"schemas": []}, "required", id="empty"),
    pytest.param({"schemas": "URN"}, "list", id="a-string"),
    pytest.param({"schemas": [{"urn": 1}]}, "list", id="not-strings"),
    pytest.param(
        {"schemas": ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]},
        "must include",
        id="other-urn",
    ),
]


def _user(schemas: dict[str, Any]) -> dict[str, Any]:
    return {**schemas, "userName": "bjensen", "displayName": "Barbara"}


def _group(schemas: dict[str, Any]) -> dict[str, Any]:
    return {**schemas, "displayName": "Team"}


@pytest.mark.parametrize(("schemas", "word"), MISSING)
def test_user_post_and_put_need_the_user_schema(scim, schemas, word):
    assert_scim_error(scim.post("/Users", json=_user(schemas)), 400, "invalidValue", "schemas", word)
    assert scim.get("/Users").get_json()["totalResults"] == 0
    user = scim.post("/Users", json=_user({"schemas": [urns.USER]})).get_json()
    replaced = scim.put(f"/Users/{user['id']}", json={**_user(schemas), "displayName": "Changed"})
    assert_scim_error(replaced, 400, "invalidValue", "schemas", word)
    assert scim.get(f"/Users/{user['id']}").get_json() == user


@pytest.mark.parametrize(("schemas", "word"), MISSING)
def test_group_post_and_put_need_the_group_schema(scim, schemas, word):
    assert_scim_error(scim.post("/Groups", json=_group(schemas)), 400, "invalidValue", "schemas", word)
    assert scim.get("/Groups").get_json()["totalResults"] == 0
    group = scim.post("/Groups", json=_group({"schemas": [urns.GROUP]})).get_json()
    replaced = scim.put(f"/Groups/{group['id']}", json={**_group(schemas), "displayName": "Changed"})
    assert_scim_error(replaced, 400, "invalidValue", "schemas", word)
    assert scim.get(f"/Groups/{group['id']}").get_json() == group


def test_a_user_body_is_not_a_group_body(scim):
    response = scim.post("/Groups", json={"schemas": [urns.USER], "displayName": "Team"})
    assert_scim_error(response, 400, "invalidValue", "schemas", urns.GROUP)


@pytest.mark.parametrize(
    "schemas", [None, [], [urns.USER], "urn:ietf:params:scim:api:messages:2.0:PatchOp"], ids=str
)
@pytest.mark.parametrize("kind", ["Users", "Groups"])
def test_patch_needs_the_patch_op_schema(scim, kind, schemas):
    body = (
        {"schemas": [urns.USER], "userName": "bjensen"}
        if kind == "Users"
        else _group({"schemas": [urns.GROUP]})
    )
    resource = scim.post(f"/{kind}", json=body).get_json()
    patch: dict[str, Any] = {"Operations": [{"op": "replace", "path": "displayName", "value": "Changed"}]}
    if schemas is not None:
        patch["schemas"] = schemas
    assert_scim_error(
        scim.patch(f"/{kind}/{resource['id']}", json=patch), 400, "invalidSyntax", urns.PATCH_OP
    )
    assert scim.get(f"/{kind}/{resource['id']}").get_json() == resource


class SchemalessIdp:
    """A plugin for an IdP documented to omit ``schemas``: it adds the core schema, for its
    client only (the shape a real plugin would take, with its evidence in the docstring)."""

    @hookimpl
    def scimgate_register_clients(self) -> list[ClientProfile]:
        return [ClientProfile("schemaless_idp", "An IdP that omits schemas")]

    @hookimpl
    def scimgate_normalize_request(self, resource_type: str, action: str, payload: Any) -> None:
        core = {"User": urns.USER, "Group": urns.GROUP}.get(resource_type)
        if (
            core
            and action in {"create", "replace"}
            and isinstance(payload, dict)
            and not payload.get("schemas")
        ):
            payload["schemas"] = [core]


@pytest.fixture
def relaxing_app(app: Flask, log_dir: Path):
    other = sibling_app(app, log_dir, PLUGINS_EXTRA=(SchemalessIdp(),))
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_only_the_plugin_of_a_client_known_to_omit_schemas_may_add_them(relaxing_app: Flask):
    okta = ScimClient(relaxing_app.test_client(), configure_scim(relaxing_app, "okta"))
    assert_scim_error(okta.post("/Users", json={"userName": "bjensen"}), 400, "invalidValue", "schemas")
    scim = ScimClient(relaxing_app.test_client(), configure_scim(relaxing_app, "schemaless_idp"))
    created = scim.post("/Users", json={"userName": "bjensen"})
    assert created.status_code == 201, created.get_json()
    group = scim.post("/Groups", json={"displayName": "Team"})
    assert group.status_code == 201, group.get_json()
    replaced = scim.put(f"/Users/{created.get_json()['id']}", json={"userName": "bjensen", "active": False})
    assert replaced.status_code == 200 and replaced.get_json()["active"] is False
