"""The /api/v1 contract beyond the policy tables: authentication, CSRF, admin checks, shapes,
roles from groups, and the settings' own guards."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scimgate import configuration_utils as cu
from scimgate.accounts import groups as app_groups
from scimgate.accounts import settings, users
from scimgate.extensions import db
from tests.support.config import add_group, add_pushed_user
from tests.support.signin import Api, add_admin, configure_dev_saml, password_sign_in, saml_sign_in


@pytest.fixture
def admin_api(app: Flask, client: FlaskClient) -> Api:
    """A signed-in built-in Server Admin (SAML on, SCIM off)."""
    configure_dev_saml(app)
    with app.app_context():
        add_admin()
    assert password_sign_in(client, "admin").status_code == 302
    return Api(client)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users"),
        ("GET", "/users/1"),
        ("POST", "/users/1/activate"),
        ("POST", "/users/1/suspend"),
        ("PATCH", "/users/1/profile"),
        ("PUT", "/users/1/role"),
        ("GET", "/groups"),
        ("POST", "/groups"),
        ("PATCH", "/groups/1"),
        ("DELETE", "/groups/1"),
        ("PUT", "/groups/1/role"),
        ("GET", "/settings"),
        ("PUT", "/settings"),
        ("GET", "/session"),
    ],
)
def test_unauthenticated_is_401(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(f"/api/v1{path}", method=method, json={})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthenticated"


def test_changes_need_the_csrf_token(admin_api: Api) -> None:
    response = admin_api.client.put("/api/v1/settings", json={"moderation": True})
    assert response.status_code == 403
    assert response.get_json()["error"] == "csrf_failed"
    wrong = admin_api.client.put("/api/v1/settings", json={"moderation": True}, headers={"X-CSRF-Token": "x"})
    assert wrong.get_json()["error"] == "csrf_failed"
    assert admin_api.put("/settings", {"moderation": True}).status_code == 200


def test_non_admin_is_403_but_may_read_and_edit_itself(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    with app.app_context():
        other = add_pushed_user("someone").id
    assert saml_sign_in(client, "viewer").status_code == 302
    api = Api(client)
    me = api.get("/session").get_json()["user"]
    for response in (api.get("/users"), api.get(f"/users/{other}"), api.get("/groups"), api.get("/settings")):
        assert response.status_code == 403
        assert response.get_json() == {
            "error": "forbidden",
            "detail": "this action needs the Server Admin role",
        }
    assert api.post(f"/users/{me['id']}/activate").status_code == 403
    assert api.get(f"/users/{me['id']}").status_code == 200
    changed = api.patch(f"/users/{me['id']}/profile", {"display_name": "Vi Ewer", "email": "vi@example.com"})
    assert changed.status_code == 200
    assert (changed.get_json()["display_name"], changed.get_json()["email"]) == ("Vi Ewer", "vi@example.com")
    assert api.patch(f"/users/{other}/profile", {"display_name": "x"}).status_code == 403


def test_user_shape(admin_api: Api, app: Flask) -> None:
    with app.app_context():
        pushed = add_pushed_user("pushed")
        add_group("engineers", [pushed])
    listed = admin_api.get("/users").get_json()["users"]
    by_name = {u["username"]: u for u in listed}
    assert by_name["admin"]["kind"] == "builtin"
    one = admin_api.get(f"/users/{by_name['pushed']['id']}").get_json()
    assert {k: one[k] for k in ("kind", "scim_managed", "active", "suspended", "role", "status")} == {
        "kind": "scim",
        "scim_managed": True,
        "active": True,
        "suspended": False,
        "role": "viewer",
        "status": "active",
    }
    assert [(g["name"], g["kind"]) for g in one["groups"]] == [("engineers", "scim")]
    assert admin_api.get("/users/999999").status_code == 404


def test_groups_crud_and_highest_group_role_wins(admin_api: Api, app: Flask) -> None:
    with app.app_context():
        alice = users.create_saml_user("alice", pending=False).id
        admin = users.find_by_username("admin").id
    created = admin_api.post("/groups", {"name": "stewards", "members": [alice], "role": "steward"})
    assert created.status_code == 201
    body = created.get_json()
    assert (body["kind"], body["role"], body["members"]) == ("application", "steward", [alice])
    second = admin_api.post("/groups", {"name": "composers", "members": [alice]}).get_json()
    assert admin_api.put(f"/groups/{second['id']}/role", {"role": "composer"}).status_code == 200
    assert admin_api.post("/groups", {"name": "stewards"}).status_code == 409
    assert admin_api.post("/groups", {"name": "bad", "members": [123456]}).status_code == 400
    assert (
        admin_api.put(f"/groups/{second['id']}/role", {"role": "emperor"}).get_json()["error"]
        == "invalid_role"
    )
    # the admin keeps Server Admin through a group, so roles may come from groups
    admins = admin_api.post("/groups", {"name": "admins", "members": [admin], "role": "server_admin"})
    assert admins.status_code == 201
    assert admin_api.put("/settings", {"groups_assign_roles": True}).status_code == 200
    assert admin_api.get(f"/users/{alice}").get_json()["role"] == "steward"  # steward > composer
    assert admin_api.patch(f"/groups/{body['id']}", {"members": []}).status_code == 200
    assert admin_api.get(f"/users/{alice}").get_json()["role"] == "composer"
    assert admin_api.delete(f"/groups/{second['id']}").status_code == 204
    assert admin_api.get(f"/users/{alice}").get_json()["role"] == "viewer"
    assert [g["name"] for g in admin_api.get("/groups").get_json()["groups"]] == ["admins", "stewards"]


def test_groups_assign_roles_cannot_lock_every_admin_out(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    with app.app_context():
        chief = users.create_saml_user("chief", pending=False)
        chief.role = "server_admin"  # the only admin, and through no group
        db.session.commit()
    assert saml_sign_in(client, "chief").status_code == 302
    refused = Api(client).put("/settings", {"groups_assign_roles": True})
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "would_lock_out_admins"
    with app.app_context():
        assert settings.stored("groups_assign_roles") is False


def test_a_builtin_admin_keeps_server_admin_when_groups_assign_roles(admin_api: Api) -> None:
    assert admin_api.put("/settings", {"groups_assign_roles": True}).status_code == 200
    assert admin_api.get("/session").get_json()["user"]["role"] == "server_admin"
    assert admin_api.get("/users").status_code == 200


def test_settings_shape_and_validation(admin_api: Api) -> None:
    body = admin_api.get("/settings").get_json()
    assert body["moderation"] is False and body["scim_sync_enabled"] is False and body["saml_enabled"] is True
    assert body["policies"]["signup"]["allowed"] is False
    assert body["policies"]["moderate_signups"]["allowed"] is True
    assert admin_api.put("/settings", {"moderation": "yes"}).status_code == 400
    assert admin_api.put("/settings", {"sign_up": True}).status_code == 400
    assert admin_api.put("/settings", []).status_code == 400


def test_turning_a_setting_off_is_allowed_while_scim_is_on(app: Flask, admin_api: Api) -> None:
    configure_dev_saml(app, scim=True)
    assert (
        admin_api.put(
            "/settings", {"moderation": False, "custom_groups_manage_activation": False}
        ).status_code
        == 200
    )
    assert admin_api.get("/settings").get_json()["policies"]["moderate_signups"]["allowed"] is False


def test_custom_groups_decide_who_is_active(app: Flask, admin_api: Api) -> None:
    with app.app_context():
        alice = users.create_saml_user("alice", pending=False).id
    assert admin_api.put("/settings", {"custom_groups_manage_activation": True}).status_code == 200
    assert admin_api.get(f"/users/{alice}").get_json()["status"] == "suspended"
    admin_api.post("/groups", {"name": "members", "members": [alice]})
    assert admin_api.get(f"/users/{alice}").get_json()["status"] == "active"
    assert admin_api.get("/session").status_code == 200  # built-in accounts are not affected


def test_scim_cannot_take_over_a_builtin_username(app: Flask, client: FlaskClient) -> None:
    headers = configure_dev_saml(app, scim=True)
    with app.app_context():
        add_admin("admin")
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "admin", "active": True}
    refused = client.post("/scim/v2/Users", json=body, headers=headers)
    assert refused.status_code == 409
    assert refused.get_json()["scimType"] == "uniqueness"
    assert "built-in account" in refused.get_json()["detail"]


def test_scim_adopts_a_saml_created_account(app: Flask, client: FlaskClient) -> None:
    headers = configure_dev_saml(app, scim=True)
    assert saml_sign_in(app.test_client(), "early.bird").status_code == 302
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "early.bird",
        "active": True,
    }
    assert client.post("/scim/v2/Users", json=body, headers=headers).status_code == 201
    with app.app_context():
        assert users.kind_of(users.find_by_username("early.bird")) is users.AccountKind.SCIM


def test_preflight_prerequisite_4(app: Flask) -> None:
    """With group roles on, SCIM sync needs an active Server Admin through a custom group."""
    configure_dev_saml(app)
    with app.app_context():
        admin = add_admin()
        cu.update_scim_client("okta")
        cu.generate_scim_bearer_token(1)
        settings.write({"groups_assign_roles": True})
        with pytest.raises(cu.ScimConfigurationError, match="Server Admin through a custom group"):
            cu.enable_scim_user_and_group_sync()
        pushed = add_pushed_user("pushed.admin")
        scim_admins = add_group("idp-admins", [pushed], client="okta")
        scim_admins.role = "server_admin"  # a SCIM group is not a custom group: it does not count
        db.session.commit()
        with pytest.raises(cu.ScimConfigurationError, match="custom group"):
            cu.enable_scim_user_and_group_sync()
        app_groups.create_app_group("admins", [admin.id], "server_admin")
        cu.enable_scim_user_and_group_sync()
        assert cu.check_if_scim_sync_is_enabled()
