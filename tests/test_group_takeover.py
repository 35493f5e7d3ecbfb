"""The IdP cannot take over an application-defined group (issue #16, "Group takeover").

An application-defined group may carry the Server Admin role; if a SCIM client could adopt it (by
POSTing its name, or renaming one of its own groups onto it), it would then decide the group's
members and so who is Server Admin. Every such request is 409 ``uniqueness`` and changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from scimgate.accounts import cleanup as provider_cleanup
from scimgate.accounts import groups as app_groups
from scimgate.accounts import settings, users
from scimgate.extensions import db
from scimgate.models import DirectoryGroup, ScimGroup
from tests.support.config import add_pushed_user, lines_with
from tests.support.scim import ScimClient
from tests.support.signin import add_admin

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _admins_group(app: Flask) -> tuple[int, int, str]:
    """An application-defined "Admins" group with the Server Admin role and a built-in member,
    a pushed user, and roles coming from groups."""
    with app.app_context():
        admin = add_admin("root")
        pushed = add_pushed_user("idp.user")
        group = app_groups.create_app_group("Admins", [admin.id], "server_admin")
        settings.write({"groups_assign_roles": True})
        return group.id, admin.id, pushed.scim.scim_user_uuid


def _unchanged(app: Flask, group_id: int, admin_id: int) -> None:
    with app.app_context():
        group = db.session.get(DirectoryGroup, group_id)
        assert group.external_unique_name == "Admins"
        assert app_groups.kind_of(group) is app_groups.GroupKind.APPLICATION
        assert group.role == "server_admin"
        assert app_groups.member_ids([group_id])[group_id] == [admin_id]
        assert [u.username for u in users.active_server_admins()] == ["root"]


def test_scim_post_of_an_application_group_name_is_409_and_changes_nothing(
    app: Flask, scim: ScimClient, log_dir: Path
) -> None:
    group_id, admin_id, pushed = _admins_group(app)
    body = {"schemas": [GROUP], "displayName": "Admins", "members": [{"value": pushed}]}
    refused = scim.post("/Groups", json=body)
    assert refused.status_code == 409, refused.get_data(as_text=True)
    assert refused.get_json()["scimType"] == "uniqueness"
    assert "defined in the application" in refused.get_json()["detail"]
    _unchanged(app, group_id, admin_id)
    with app.app_context():
        assert db.session.query(ScimGroup).count() == 0
    (line,) = [
        line
        for line in lines_with(log_dir, "scim-info.log", refused.headers["X-Request-Id"])
        if "group.create_refused" in line
    ]
    assert "Admins" in line and "application-defined" in line


def test_scim_rename_onto_an_application_group_is_409_and_changes_nothing(
    app: Flask, scim: ScimClient
) -> None:
    group_id, admin_id, pushed = _admins_group(app)
    created = scim.post("/Groups", json={"schemas": [GROUP], "displayName": "Mine"})
    assert created.status_code == 201
    scim_id = created.get_json()["id"]
    put = scim.put(
        f"/Groups/{scim_id}",
        json={"schemas": [GROUP], "displayName": "Admins", "members": [{"value": pushed}]},
    )
    assert put.status_code == 409 and put.get_json()["scimType"] == "uniqueness"
    assert "defined in the application" in put.get_json()["detail"]
    rename = {"op": "replace", "path": "displayName", "value": "Admins"}
    patch = scim.patch(f"/Groups/{scim_id}", json={"schemas": [PATCH], "Operations": [rename]})
    assert patch.status_code == 409 and patch.get_json()["scimType"] == "uniqueness"
    _unchanged(app, group_id, admin_id)
    mine = scim.get(f"/Groups/{scim_id}").get_json()
    assert mine["displayName"] == "Mine" and "members" not in mine


def test_a_scim_group_name_is_still_unique_among_scim_groups(app: Flask, scim: ScimClient) -> None:
    assert scim.post("/Groups", json={"schemas": [GROUP], "displayName": "Team"}).status_code == 201
    again = scim.post("/Groups", json={"schemas": [GROUP], "displayName": "Team"})
    assert again.status_code == 409 and again.get_json()["scimType"] == "uniqueness"


# --- adopting an account: the IdP may not revive a Server Admin the application stopped ----------

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def _saml_account(app: Flask, username: str, *, role: str, suspended: bool) -> int:
    with app.app_context():
        user = users.create_saml_user(username, pending=False)
        user.role = role
        user.profile.is_suspended = suspended
        db.session.commit()
        return user.id


def test_scim_cannot_adopt_and_revive_a_suspended_server_admin(
    app: Flask, scim: ScimClient, log_dir: Path
) -> None:
    user_id = _saml_account(app, "old.admin", role="server_admin", suspended=True)
    refused = scim.post("/Users", json={"schemas": [USER], "userName": "old.admin", "active": True})
    assert refused.status_code == 409, refused.get_data(as_text=True)
    assert refused.get_json()["scimType"] == "uniqueness"
    assert "Server Admin" in refused.get_json()["detail"]
    with app.app_context():
        account = users.view(users.get(user_id))
        assert account.status is users.Status.SUSPENDED and account.user.scim is None
    lines = lines_with(log_dir, "scim-info.log", refused.headers["X-Request-Id"])
    assert any("user.adopt_refused" in line and "old.admin" in line for line in lines)


def test_the_same_holds_for_the_role_of_an_application_group(app: Flask, scim: ScimClient) -> None:
    user_id = _saml_account(app, "old.admin", role="viewer", suspended=True)
    with app.app_context():
        app_groups.create_app_group("Admins", [user_id], "server_admin")
        settings.write({"groups_assign_roles": True})
    refused = scim.post("/Users", json={"schemas": [USER], "userName": "old.admin", "active": True})
    assert refused.status_code == 409
    with app.app_context():
        assert users.get(user_id).scim is None and users.get(user_id).profile.is_suspended


def test_other_accounts_are_still_adopted(app: Flask, scim: ScimClient) -> None:
    """An active admin's account (the IdP already signs it in) and a suspended Viewer's are linked."""
    _saml_account(app, "admin.now", role="server_admin", suspended=False)
    _saml_account(app, "viewer.then", role="viewer", suspended=True)
    for name in ("admin.now", "viewer.then"):
        created = scim.post("/Users", json={"schemas": [USER], "userName": name, "active": True})
        assert created.status_code == 201, created.get_data(as_text=True)


def test_after_a_provider_change_a_former_admin_waits_for_an_admin(app: Flask, scim: ScimClient) -> None:
    """The cleanup suspends every pushed account; the new provider's POST revives the others,
    not a Server Admin's, until an admin of the application activates it."""
    with app.app_context():
        add_admin("root")
        former = add_pushed_user("former.admin")
        former.role = "server_admin"
        db.session.commit()
        add_pushed_user("someone")
        provider_cleanup.run_cleanup()
        former_id = former.id
    body = {"schemas": [USER], "active": True}
    assert scim.post("/Users", json={**body, "userName": "someone"}).status_code == 201
    assert scim.post("/Users", json={**body, "userName": "former.admin"}).status_code == 409
    with app.app_context():
        users.activate(users.get(former_id))
    assert scim.post("/Users", json={**body, "userName": "former.admin"}).status_code == 201
