"""No change by a person may leave nobody able to reach Admin Settings (issue #16, "Admin lock-out"),
and the server's shell always gets back in (``scimgate admin create`` / ``reactivate``).

Each refusal is checked through the real interface (the pages and /api/v1 with a SAML sign-in, the
CLI through ``scimgate``'s entry point) and asserts that nothing changed.
"""

from __future__ import annotations

import itertools
import re
import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from scimgate import cli
from scimgate import configuration_utils as cu
from scimgate.accounts import admins, settings, users
from scimgate.accounts import groups as app_groups
from scimgate.accounts.roles import Role
from scimgate.extensions import db
from scimgate.models import ScimUser
from tests.support.config import add_group, add_local_user, add_pushed_user, lines_with
from tests.support.lockout import admin_state, page_post, sole_saml_admin
from tests.support.signin import ADMIN_PASSWORD, add_admin, configure_dev_saml, password_sign_in

LOCKOUT = "would_lock_out_admins"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def run(runner: FlaskCliRunner, *args: str, input: str | None = None):
    return runner.invoke(cli.main, list(args), input=input)


def _refused_json(response) -> str:
    assert response.status_code == 403, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == LOCKOUT
    assert "no active Server Admin" in body["detail"] and "scimgate admin create" in body["detail"]
    return body["detail"]


def _refused_page(response) -> None:
    assert response.status_code == 403, response.get_data(as_text=True)
    assert "would leave no active Server Admin" in response.get_data(as_text=True)


# --- users: suspend, demote -----------------------------------------------------------------------


def test_the_last_admin_cannot_suspend_or_demote_themself(
    app: Flask, client: FlaskClient, log_dir: Path
) -> None:
    chief = sole_saml_admin(app, client)
    before = admin_state(app, chief.id)
    assert before == ("active", "server_admin", [])
    refused = chief.api.post(f"/users/{chief.id}/suspend")
    assert "suspending 'chief'" in _refused_json(refused)
    (line,) = lines_with(log_dir, "scim-info.log", refused.headers["X-Request-Id"])
    assert "admin.lockout_refused" in line and "chief" in line
    _refused_json(chief.api.put(f"/users/{chief.id}/role", {"role": "viewer"}))
    _refused_page(page_post(client, f"/admin/users/{chief.id}/suspend"))
    _refused_page(page_post(client, f"/admin/users/{chief.id}/role", {"role": "steward"}))
    assert admin_state(app, chief.id) == before
    assert client.get("/admin/users").status_code == 200


def _user_row(html: str, username: str) -> str:
    match = re.search(rf'<tr id="user-\d+" data-username="{re.escape(username)}">(.*?)</tr>', html, re.S)
    assert match, html
    return match.group(1)


def test_the_users_page_disables_suspend_for_the_only_admin(app: Flask, client: FlaskClient) -> None:
    sole_saml_admin(app, client)
    row = _user_row(client.get("/admin/users").get_data(as_text=True), "chief")
    assert re.search(r"<button type=\"button\" disabled[^>]*>Suspend</button>", row)
    assert "would leave no active Server Admin" in row
    with app.app_context():
        add_admin("root")
    row = _user_row(client.get("/admin/users").get_data(as_text=True), "chief")
    assert 'class="danger">Suspend</button>' in row and "would leave no active" not in row


def test_with_another_active_admin_the_same_changes_are_allowed(app: Flask, client: FlaskClient) -> None:
    chief = sole_saml_admin(app, client)
    with app.app_context():
        other = add_local_user("deputy")
        other.role = "server_admin"
        db.session.commit()
        other_id = other.id
    assert chief.api.put(f"/users/{other_id}/role", {"role": "viewer"}).status_code == 200
    _refused_json(chief.api.post(f"/users/{chief.id}/suspend"))  # deputy is no admin any more
    assert chief.api.put(f"/users/{other_id}/role", {"role": "server_admin"}).status_code == 200
    assert chief.api.post(f"/users/{chief.id}/suspend").status_code == 200
    assert admin_state(app, chief.id)[0] == "suspended"


def test_a_suspended_admin_does_not_count(app: Flask, client: FlaskClient) -> None:
    chief = sole_saml_admin(app, client)
    with app.app_context():
        other = add_admin("root")
        other.profile.is_suspended = True
        db.session.commit()
    _refused_json(chief.api.put(f"/users/{chief.id}/role", {"role": "viewer"}))
    assert admin_state(app, chief.id) == ("active", "server_admin", [])


# --- groups that give the role ------------------------------------------------------------------


def test_the_group_giving_the_last_admin_the_role_keeps_it(app: Flask, client: FlaskClient) -> None:
    chief = sole_saml_admin(app, client, through_group=True)
    before = admin_state(app, chief.id)
    assert before == ("active", "server_admin", ["Admins"])
    with app.app_context():
        group_id = app_groups.all_groups()[0].id
    detail = _refused_json(chief.api.patch(f"/groups/{group_id}", {"members": []}))
    assert "'Admins'" in detail
    _refused_json(chief.api.put(f"/groups/{group_id}/role", {"role": "catalog_admin"}))
    _refused_json(chief.api.put(f"/groups/{group_id}/role", {"role": None}))
    _refused_json(chief.api.delete(f"/groups/{group_id}"))
    _refused_page(page_post(client, f"/admin/groups/{group_id}/members/{chief.id}/remove"))
    _refused_page(page_post(client, f"/admin/groups/{group_id}/role", {"role": ""}))
    _refused_page(page_post(client, f"/admin/groups/{group_id}/delete"))
    assert admin_state(app, chief.id) == before
    with app.app_context():
        group = app_groups.get(group_id)
        assert group.role == "server_admin" and app_groups.member_ids([group_id])[group_id] == [chief.id]
    # renaming the group or adding members takes nothing away
    assert chief.api.patch(f"/groups/{group_id}", {"name": "Admin team"}).status_code == 200


def test_unmapping_a_scim_group_that_gives_the_last_admin_the_role_is_refused(
    app: Flask, client: FlaskClient
) -> None:
    configure_dev_saml(app)
    with app.app_context():
        pushed = add_pushed_user("okta.admin")
        group = add_group("okta-admins", [pushed])
        group.role = "server_admin"
        settings.write({"groups_assign_roles": True})
        group_id = group.id
    from tests.support.signin import Api, saml_sign_in

    assert saml_sign_in(client, "okta.admin").status_code == 302
    _refused_json(Api(client).put(f"/groups/{group_id}/role", {"role": "viewer"}))
    with app.app_context():
        assert app_groups.get(group_id).role == "server_admin"


# --- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("through_group", "change"),
    [
        (False, {"groups_assign_roles": True}),  # chief's role is their own, no group gives it
        (True, {"groups_assign_roles": False}),  # chief's own role is Viewer; only the group gives it
        (False, {"custom_groups_manage_activation": True}),  # chief is in no application group
    ],
)
def test_settings_that_would_take_the_last_admins_access_are_refused(
    app: Flask, client: FlaskClient, through_group: bool, change: dict[str, bool]
) -> None:
    chief = sole_saml_admin(app, client, through_group=through_group)
    before = admin_state(app, chief.id)
    with app.app_context():
        stored = {name: settings.stored(name) for name in settings.API_NAMES}
    _refused_json(chief.api.put("/settings", change))
    form = {name: "on" for name, value in {**stored, **change}.items() if value}
    _refused_page(page_post(client, "/admin/settings", form))
    with app.app_context():
        assert {name: settings.stored(name) for name in settings.API_NAMES} == stored
    assert admin_state(app, chief.id) == before


def test_custom_group_activation_is_allowed_when_the_admin_is_in_an_application_group(
    app: Flask, client: FlaskClient
) -> None:
    chief = sole_saml_admin(app, client)
    assert chief.api.post("/groups", {"name": "Staff", "members": [chief.id]}).status_code == 201
    assert chief.api.put("/settings", {"custom_groups_manage_activation": True}).status_code == 200


# --- the CLI: SCIM off, provider cleanup ---------------------------------------------------------


def test_turning_scim_off_is_refused_when_it_would_suspend_the_last_admin(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """With SCIM on, "Use Custom Groups to manage user suspension and activation" does not apply;
    turning SCIM off brings it back, and would suspend an admin who is in no application group."""
    configure_dev_saml(app, scim=True)
    with app.app_context():
        chief = add_local_user("chief")
        chief.role = "server_admin"
        db.session.commit()
        settings.write({"custom_groups_manage_activation": True})
    refused = run(runner, "scim", "disable")
    assert refused.exit_code == 1
    assert "turning SCIM sync off would leave no active Server Admin" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    with app.app_context():
        assert cu.check_if_scim_sync_is_enabled()
        app_groups.create_app_group("Staff", [users.find_by_username("chief").id])
    assert run(runner, "scim", "disable").exit_code == 0


def test_turning_saml_off_is_refused_while_every_admin_signs_in_through_saml(
    app: Flask, runner: FlaskCliRunner
) -> None:
    """Without SAML only built-in accounts sign in: a SAML-only admin would be locked out."""
    configure_dev_saml(app)
    with app.app_context():
        chief = add_local_user("chief")  # a SAML-created account
        chief.role = "server_admin"
        db.session.commit()
    refused = run(runner, "saml", "disable")
    assert refused.exit_code == 1
    assert "turning SAML off would leave no active Server Admin" in refused.output
    assert "scimgate admin create" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert "enabled:        True" in run(runner, "saml", "status").output
    assert (
        run(runner, "admin", "create", "root", "--password-stdin", input=ADMIN_PASSWORD + "\n").exit_code == 0
    )
    assert run(runner, "saml", "disable").exit_code == 0
    assert "enabled:        False" in run(runner, "saml", "status").output


def test_cleanup_that_would_suspend_the_last_admin_is_refused_even_with_force(
    app: Flask, runner: FlaskCliRunner
) -> None:
    with app.app_context():
        pushed = add_pushed_user("pushed.admin")
        pushed.role = "server_admin"
        db.session.commit()
        add_pushed_user("someone")
    refused = run(runner, "scim", "cleanup", "--yes", "--force")
    assert refused.exit_code == 1
    assert "the provider cleanup would leave no active Server Admin" in refused.output
    with app.app_context():
        assert users.view(users.find_by_username("pushed.admin")).status is users.Status.ACTIVE
        assert db.session.query(ScimUser).count() == 2  # nothing changed
        add_admin("root")
    done = run(runner, "scim", "cleanup", "--yes")
    assert done.exit_code == 0, done.output


# --- the way back from the shell -----------------------------------------------------------------


def test_admin_create_reaches_admin_settings_whatever_the_settings(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    configure_dev_saml(app)
    with app.app_context():
        settings.write({"groups_assign_roles": True, "custom_groups_manage_activation": True})
    created = run(runner, "admin", "create", "rescue", "--password-stdin", input=ADMIN_PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    assert password_sign_in(client, "rescue").status_code == 302
    assert client.get("/admin/settings").status_code == 200
    assert client.get("/api/v1/session").get_json()["user"]["role"] == "server_admin"


def test_admin_reactivate_restores_a_suspended_demoted_builtin_account(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    configure_dev_saml(app)
    with app.app_context():
        root = add_admin("root")
        root.profile.is_suspended = True
        root.role = "viewer"
        db.session.commit()
    assert password_sign_in(client, "root").status_code != 302
    again = run(runner, "admin", "create", "root", "--password-stdin", input=ADMIN_PASSWORD + "\n")
    assert again.exit_code == 1 and "scimgate admin reactivate" in again.output
    done = run(runner, "admin", "reactivate", "root")
    assert done.exit_code == 0, done.output
    assert password_sign_in(client, "root").status_code == 302  # the password is kept
    assert client.get("/admin/users").status_code == 200


def test_admin_reactivate_refuses_other_accounts(app: Flask, runner: FlaskCliRunner) -> None:
    with app.app_context():
        add_pushed_user("pushed")
        add_local_user("local")
    for name, words in (("pushed", "a scim account"), ("local", "a saml account"), ("ghost", "no account")):
        result = run(runner, "admin", "reactivate", name)
        assert result.exit_code == 1 and words in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    with app.app_context():
        assert users.find_by_username("pushed").role == "viewer"


# --- the IdP is the source of truth for the accounts it pushes ------------------------------------


def test_the_idp_may_deactivate_the_last_admin_and_the_shell_gets_back_in(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    headers = configure_dev_saml(app, scim=True)
    with app.app_context():
        pushed = add_pushed_user("okta.admin")
        pushed.role = "server_admin"
        db.session.commit()
        scim_id = pushed.scim.scim_user_uuid
    body = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    applied = client.patch(f"/scim/v2/Users/{scim_id}", json=body, headers=headers)
    assert applied.status_code == 200 and applied.get_json()["active"] is False
    with app.app_context():
        assert admins.active_server_admins() == []
    created = run(runner, "admin", "create", "rescue", "--password-stdin", input=ADMIN_PASSWORD + "\n")
    assert created.exit_code == 0
    assert password_sign_in(client, "rescue").status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_the_idp_may_remove_the_last_admin_from_a_role_group(app: Flask, client: FlaskClient) -> None:
    headers = configure_dev_saml(app, scim=True)
    with app.app_context():
        pushed = add_pushed_user("okta.admin")
        group = add_group("okta-admins", [pushed])
        group.role = "server_admin"
        settings.write({"groups_assign_roles": True})
        member, group_scim_id = pushed.scim.scim_user_uuid, group.scim.scim_group_uuid
    remove = {"op": "remove", "path": f'members[value eq "{member}"]'}
    applied = client.patch(
        f"/scim/v2/Groups/{group_scim_id}", json={"schemas": [PATCH], "Operations": [remove]}, headers=headers
    )
    assert applied.status_code in (200, 204)
    with app.app_context():
        assert admins.active_server_admins() == []


# --- the database's answer matches the per-user one ---------------------------------------------


def test_the_admin_query_agrees_with_status_and_effective_role(app: Flask) -> None:
    with app.app_context():
        cases = []
        for n, (builtin, pushed, role, suspended, in_app, in_scim) in enumerate(
            itertools.product(
                (False, True), (False, True), ("server_admin", "viewer"), (False, True), *[(0, 1)] * 2
            )
        ):
            if builtin and pushed:
                continue
            user = add_pushed_user(f"u{n}") if pushed else add_local_user(f"u{n}")
            user.is_builtin, user.role, user.profile.is_suspended = builtin, role, suspended
            cases.append((user, in_app, in_scim))
        db.session.commit()
        for kind, client in (("app", None), ("scim", "okta")):
            for group_role in ("server_admin", "steward"):
                members = [u for u, a, s in cases if (a if kind == "app" else s)]
                group = add_group(
                    f"{kind}-{group_role}", members if group_role == "server_admin" else [], client
                )
                group.role = group_role
        db.session.commit()
        for assign, activation in itertools.product((False, True), repeat=2):
            settings.write({"groups_assign_roles": assign, "custom_groups_manage_activation": activation})
            expected = [
                u.username
                for u in users.all_users()
                if (view := users.view(u)).status is users.Status.ACTIVE and view.role is Role.SERVER_ADMIN
            ]
            assert [u.username for u in admins.active_server_admins()] == expected, (assign, activation)
            assert expected


# --- two admins at the same moment ----------------------------------------------------------------


def test_two_admins_cannot_suspend_each_other_at_the_same_moment(app: Flask) -> None:
    """The second change waits for the first one's commit, then sees it and is refused."""
    with app.app_context():
        first, second = add_admin("first").id, add_admin("second").id
    outcome: list[str] = []

    def suspend_second() -> None:
        with app.app_context():
            try:
                users.suspend(users.get(second))
                outcome.append("suspended")
            except admins.LockoutRefusal:
                outcome.append("refused")

    with app.app_context():
        admin_before = admins.had_an_admin()
        users.get(first).profile.is_suspended = True
        db.session.flush()
        assert admins.an_admin_exists()  # "second" is still active, as this transaction sees it
        other = threading.Thread(target=suspend_second)
        other.start()
        other.join(timeout=1.0)
        assert other.is_alive()  # waiting for this change to commit
        admins.commit_keeping_an_admin("suspending 'first'", admin_before)
    other.join(timeout=20)
    assert outcome == ["refused"]
    assert admin_state(app, second)[0] == "active" and admin_state(app, first)[0] == "suspended"
