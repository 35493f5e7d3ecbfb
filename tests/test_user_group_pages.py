"""A page per user and per group for Server Admins (issue 17): kind, status, SCIM id, externalId,
groups, role and where it comes from, member count, and the provisioning history (the audit events
about it, newest first, paged, each linked to its request). Admins only; unknown ids are a 404 page.
Through the Flask test client, on the real database (SQLite, or PostgreSQL)."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from scimgate.accounts import groups as app_groups
from scimgate.accounts import settings
from scimgate.extensions import db
from scimgate.models import DirectoryGroup, User
from tests.support.activity import PATCH_SCHEMA, group_body, sign_in_admin, user_body
from tests.support.scim import ScimClient
from tests.support.signin import configure_dev_saml, saml_sign_in


def user_id_of(app: Flask, username: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == username))


def group_id_of(app: Flask, name: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(DirectoryGroup.id).where(DirectoryGroup.external_unique_name == name)
        )


def fact(page: str, element_id: str) -> str:
    """The text of one ``<dd id=...>`` (tags dropped, entities read)."""
    found = re.search(rf'<dd id="{element_id}"[^>]*>(.*?)</dd>', page, re.S)
    assert found, element_id
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def history_actions(page: str) -> list[str]:
    return re.findall(r'<tr data-action="([^"]+)">', page)


def deactivate(scim: ScimClient, scim_id: str) -> None:
    body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    assert scim.patch(f"/Users/{scim_id}", json=body).status_code == 200


def test_a_pushed_users_page(app: Flask, scim: ScimClient, client: FlaskClient) -> None:
    created = scim.post("/Users", json=user_body("alice", externalId="okta-00u1"))
    scim_id = created.json["id"]
    scim.post("/Groups", json=group_body("Okta Stewards", [scim_id]))
    deactivate(scim, scim_id)
    sign_in_admin(app, client)
    response = client.get(f"/admin/users/{user_id_of(app, 'alice')}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert fact(page, "kind").startswith("SCIM (pushed by the IdP, client okta)")
    assert fact(page, "status") == "Deactivated"
    assert fact(page, "scim-id") == scim_id
    assert fact(page, "external-id") == "okta-00u1"
    group_id = group_id_of(app, "Okta Stewards")
    assert f'href="/admin/groups/{group_id}" title="Okta Stewards">Okta Stewards</a>' in page
    assert "assigned directly" in page  # "Use Groups to Assign Roles" is off
    assert history_actions(page) == ["user.patched", "user.created"]  # newest first
    request_id = created.headers["X-Request-Id"]
    assert f'href="/admin/activity?request={request_id}"' in page


def test_the_role_says_which_group_gives_it(app: Flask, scim: ScimClient, client: FlaskClient) -> None:
    scim_id = scim.post("/Users", json=user_body("bob")).json["id"]
    scim.post("/Groups", json=group_body("Okta Admins", [scim_id]))
    scim.post("/Groups", json=group_body("Okta Viewers", [scim_id]))
    sign_in_admin(app, client)
    with app.app_context():
        app_groups.set_group_role(db.session.get(DirectoryGroup, group_id_of(app, "Okta Admins")), "steward")
        app_groups.set_group_role(db.session.get(DirectoryGroup, group_id_of(app, "Okta Viewers")), "viewer")
        settings.write({"groups_assign_roles": True})
    page = client.get(f"/admin/users/{user_id_of(app, 'bob')}").get_data(as_text=True)
    role = html.unescape(re.sub(r"<[^>]+>", "", re.search(r'<p id="role">(.*?)</p>', page, re.S).group(1)))
    assert role == "Steward, from group “Okta Admins”."
    with app.app_context():
        app_groups.set_group_role(db.session.get(DirectoryGroup, group_id_of(app, "Okta Admins")), None)
        app_groups.set_group_role(db.session.get(DirectoryGroup, group_id_of(app, "Okta Viewers")), None)
    page = client.get(f"/admin/users/{user_id_of(app, 'bob')}").get_data(as_text=True)
    assert "the default role (Viewer): none of the user&#39;s groups has a role" in page


def test_built_in_and_saml_accounts(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    saml_sign_in(FlaskClient(app, use_cookies=True), "carol")
    sign_in_admin(app, client)
    with app.app_context():
        settings.write({"groups_assign_roles": True})
    admin = client.get(f"/admin/users/{user_id_of(app, 'admin')}").get_data(as_text=True)
    assert fact(admin, "kind").startswith("Built-in")
    assert "assigned directly (a built-in account keeps its own role" in admin
    assert fact(admin, "scim-id").startswith("none") and 'id="no-groups"' in admin
    saml = client.get(f"/admin/users/{user_id_of(app, 'carol')}").get_data(as_text=True)
    assert fact(saml, "kind").startswith("SAML") and 'id="no-history"' in saml


def test_the_history_is_paged_newest_first(
    app: Flask, scim: ScimClient, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scimgate.web.admin import user_detail

    monkeypatch.setattr(user_detail, "HISTORY_PER_PAGE", 2)
    scim_id = scim.post("/Users", json=user_body("dave")).json["id"]
    for name in ("D1", "D2", "D3"):
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "path": "displayName", "value": name}],
        }
        assert scim.patch(f"/Users/{scim_id}", json=body).status_code == 200
    scim.post("/Users", json=user_body("someone-else"))  # not in dave's history
    sign_in_admin(app, client)
    path = f"/admin/users/{user_id_of(app, 'dave')}"
    first = client.get(path).get_data(as_text=True)
    assert history_actions(first) == ["user.patched", "user.patched"] and "D3" in first
    assert "Events 1&ndash;2 of 4" in first and f'href="{path}?page=2"' in first
    last = client.get(f"{path}?page=2").get_data(as_text=True)
    assert history_actions(last) == ["user.patched", "user.created"] and "D1" in last
    assert "someone-else" not in first + last


def test_a_groups_page(app: Flask, scim: ScimClient, client: FlaskClient) -> None:
    members = [scim.post("/Users", json=user_body(f"m{n}")).json["id"] for n in range(3)]
    body = {**group_body("Okta Engineers", members), "externalId": "okta-grp-9"}
    created = scim.post("/Groups", json=body)
    scim_group_id = created.json["id"]
    remove = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "remove", "path": f'members[value eq "{members[0]}"]'}],
    }
    assert scim.patch(f"/Groups/{scim_group_id}", json=remove).status_code in (200, 204)
    sign_in_admin(app, client)
    group_id = group_id_of(app, "Okta Engineers")
    with app.app_context():
        app_groups.set_group_role(db.session.get(DirectoryGroup, group_id), "steward")
    page = client.get(f"/admin/groups/{group_id}").get_data(as_text=True)
    assert fact(page, "kind").startswith("SCIM (pushed by the IdP, client okta)")
    assert fact(page, "scim-id") == scim_group_id
    assert fact(page, "external-id") == "okta-grp-9"
    assert fact(page, "group-role-value") == "steward"
    assert fact(page, "member-count") == "2"
    # the admin's role mapping is in the history too (admin:<name>), newest first
    assert history_actions(page) == ["group.role_changed", "group.patched", "group.created"]
    assert f'href="/admin/activity?request={created.headers["X-Request-Id"]}"' in page
    member_id = user_id_of(app, "m1")
    assert f'href="/admin/users/{member_id}" title="m1">m1</a>' in page  # members link to their page


def test_an_application_groups_page(app: Flask, client: FlaskClient) -> None:
    sign_in_admin(app, client)
    with app.app_context():
        group = app_groups.create_app_group("Local Team", [], None)
        group_id = group.id
    page = client.get(f"/admin/groups/{group_id}").get_data(as_text=True)
    assert fact(page, "kind") == "Defined in the application"
    assert fact(page, "scim-id").startswith("none") and fact(page, "member-count") == "0"


@pytest.mark.parametrize("path", ["/admin/users/{user}", "/admin/groups/{group}"])
def test_the_pages_are_for_admins_only(app: Flask, scim: ScimClient, client: FlaskClient, path: str) -> None:
    scim_id = scim.post("/Users", json=user_body("erin")).json["id"]
    scim.post("/Groups", json=group_body("Okta Ops", [scim_id]))
    url = path.format(user=user_id_of(app, "erin"), group=group_id_of(app, "Okta Ops"))
    anonymous = client.get(url)
    assert anonymous.status_code == 303 and anonymous.headers["Location"] == f"/login?next={url}"
    configure_dev_saml(app)
    saml_sign_in(client, "viewer")
    refused = client.get(url)
    assert refused.status_code == 403 and "erin" not in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users/999999",
        "/admin/groups/999999",
        "/admin/users/0",
        "/admin/users/99999999999999999999999",  # beyond any row id: not a driver overflow (500)
        "/admin/groups/99999999999999999999999",
        "/admin/users/2147483648",
        "/api/v1/users/99999999999999999999999",
        "/api/v1/groups/99999999999999999999999",
    ],
)
def test_unknown_ids_are_a_404_page(app: Flask, client: FlaskClient, path: str) -> None:
    sign_in_admin(app, client)
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):  # the JSON API answers in JSON
        assert response.json["error"] == "not_found"
    else:
        assert 'id="error-message"' in response.get_data(as_text=True)


def test_a_deleted_user_is_gone_from_the_activity_names_and_its_page(
    app: Flask, scim: ScimClient, client: FlaskClient
) -> None:
    scim_id = scim.post("/Users", json=user_body("frank")).json["id"]
    sign_in_admin(app, client)
    user_id = user_id_of(app, "frank")
    assert client.get(f"/admin/users/{user_id}").status_code == 200
    assert scim.delete(f"/Users/{scim_id}").status_code == 204
    assert client.get(f"/admin/users/{user_id}").status_code == 404
    page = client.get("/admin/activity?resource=Users&method=DELETE").get_data(as_text=True)
    assert "(deleted)" in page and f"/admin/users/{user_id}" not in page


def test_a_reused_id_does_not_inherit_an_earlier_accounts_history(
    app: Flask, scim: ScimClient, client: FlaskClient
) -> None:
    """SQLite gives the id of a deleted newest row to the next account: the events recorded under
    that id before the new account existed are not its history."""
    import datetime as dt

    from scimgate.logs import audit
    from scimgate.models import utcnow

    old_scim_id = scim.post("/Users", json=user_body("old")).json["id"]
    old_id = user_id_of(app, "old")
    an_hour_ago = utcnow() - dt.timedelta(hours=1)
    with app.test_request_context("/admin/users"):  # an admin's change of the old account
        audit.record("user.suspended", "User", str(old_id), target_name="old")
        db.session.execute(
            sa.update(audit.AuditEvent)
            .where(audit.AuditEvent.action == "user.suspended")
            .values(at=an_hour_ago)
        )
        db.session.execute(
            sa.update(User).where(User.id == old_id).values(date_joined=an_hour_ago - dt.timedelta(hours=1))
        )
        db.session.commit()
    old_page = sign_in_admin(app, client).get(f"/admin/users/{old_id}").get_data(as_text=True)
    assert history_actions(old_page) == ["user.suspended", "user.created"]
    assert scim.delete(f"/Users/{old_scim_id}").status_code == 204
    with app.app_context():  # the next account, given the freed id (as SQLite does)
        db.session.add(User(id=old_id, username="new"))
        db.session.commit()
    page = client.get(f"/admin/users/{old_id}").get_data(as_text=True)
    assert "<h1>" in page and "new" in page
    assert history_actions(page) == [] and 'id="no-history"' in page
