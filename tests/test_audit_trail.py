"""The audit trail of admin actions (issue 17): every change made on the admin pages, through
``/api/v1`` or with a ``scimgate`` command writes exactly one event, in the transaction of the
change, naming the signed-in admin (``admin:<username>``) or the OS user (``cli:<user>``); a
refused change writes none, and no secret ever reaches an event or ``scimgate audit``.

The last two tests enumerate every mutating route of the admin blueprints and ``/api/v1`` and
every ``scimgate`` command, and fail when one has no test here (``@covers``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from scimgate import cli
from scimgate import configuration_utils as cu
from scimgate.accounts import users
from scimgate.extensions import db
from tests.support.audit import (
    COVERED,
    cli_commands,
    covers,
    events_after,
    expected_cli_actor,
    last_id,
    mutating_endpoints,
    one_event_after,
)
from tests.support.config import DATA_DIR, add_local_user, add_pushed_user
from tests.support.lockout import Admin, page_post, sole_saml_admin
from tests.support.signin import Api, add_admin, configure_dev_saml, saml_sign_in

PASSWORD = "Basic-auth-password-1234!"
ADMIN_PASSWORD = "Builtin-admin-password-9876!"
METADATA_FILE = str(DATA_DIR / "idp-metadata.xml")


@pytest.fixture
def chief(app: Flask, client: FlaskClient) -> Admin:
    """ "chief", signed in over SAML and the only Server Admin (SCIM sync off)."""
    return sole_saml_admin(app, client)


def _user(app: Flask, username: str, *, pending: bool = False, suspended: bool = False) -> int:
    with app.app_context():
        user = add_local_user(username)
        user.approval_pending = pending
        user.profile.is_suspended = suspended
        db.session.commit()
        return user.id


def _group(chief: Admin, name: str, members: list[int] | None = None) -> int:
    response = chief.api.post("/groups", {"name": name, "members": members or []})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def run(runner: FlaskCliRunner, *args: str, input: str | None = None) -> Result:
    """Invoke the real ``scimgate`` command group against the testing app."""
    return runner.invoke(cli.main, list(args), input=input)


# --- users --------------------------------------------------------------------------------------


@covers("admin_api.suspend", "admin_api.activate")
def test_api_suspend_activate_and_approve_name_the_signed_in_admin(app: Flask, chief: Admin) -> None:
    bob = _user(app, "bob")
    mark = last_id(app)
    response = chief.api.post(f"/users/{bob}/suspend")
    assert response.status_code == 200
    event = one_event_after(app, mark)
    assert (event.actor, event.action, event.target_type, event.target_id, event.target_name) == (
        "admin:chief",
        "user.suspended",
        "User",
        str(bob),
        "bob",
    )
    assert event.changes == {"is_suspended": {"before": False, "after": True}}
    assert event.request_id == response.headers["X-Request-Id"]

    mark = last_id(app)
    assert chief.api.post(f"/users/{bob}/activate").status_code == 200
    event = one_event_after(app, mark)
    assert (event.actor, event.action) == ("admin:chief", "user.activated")
    assert event.changes == {"is_suspended": {"before": True, "after": False}}

    carol = _user(app, "carol", pending=True)
    mark = last_id(app)
    assert chief.api.post(f"/users/{carol}/activate").status_code == 200
    event = one_event_after(app, mark)
    assert (event.actor, event.action, event.target_name) == ("admin:chief", "user.approved", "carol")
    assert event.changes == {"approval_pending": {"before": True, "after": False}}


@covers("admin_pages.user_suspend", "admin_pages.user_activate")
def test_page_suspend_and_activate_are_audited(app: Flask, client: FlaskClient, chief: Admin) -> None:
    bob = _user(app, "bob")
    mark = last_id(app)
    assert page_post(client, f"/admin/users/{bob}/suspend").status_code == 303
    event = one_event_after(app, mark)
    assert (event.actor, event.action, event.target_id) == ("admin:chief", "user.suspended", str(bob))
    assert event.changes == {"is_suspended": {"before": False, "after": True}}
    mark = last_id(app)
    assert page_post(client, f"/admin/users/{bob}/activate").status_code == 303
    event = one_event_after(app, mark)
    assert (event.actor, event.action) == ("admin:chief", "user.activated")


@covers("admin_api.role", "admin_pages.user_role")
def test_role_changes_are_audited_with_before_and_after(
    app: Flask, client: FlaskClient, chief: Admin
) -> None:
    bob = _user(app, "bob")
    mark = last_id(app)
    assert chief.api.put(f"/users/{bob}/role", {"role": "steward"}).status_code == 200
    event = one_event_after(app, mark)
    assert (event.actor, event.action, event.target_name) == ("admin:chief", "user.role_changed", "bob")
    assert event.changes == {"role": {"before": "viewer", "after": "steward"}}
    mark = last_id(app)
    assert page_post(client, f"/admin/users/{bob}/role", {"role": "catalog_admin"}).status_code == 303
    event = one_event_after(app, mark)
    assert (event.actor, event.action) == ("admin:chief", "user.role_changed")
    assert event.changes == {"role": {"before": "steward", "after": "catalog_admin"}}


@covers("admin_api.profile", "profile.save")
def test_profile_changes_name_who_made_them(app: Flask, client: FlaskClient, chief: Admin) -> None:
    bob = _user(app, "bob")
    mark = last_id(app)
    assert chief.api.patch(f"/users/{bob}/profile", {"display_name": "Bob B."}).status_code == 200
    event = one_event_after(app, mark)
    assert (event.actor, event.action, event.target_name) == ("admin:chief", "user.profile_changed", "bob")
    assert event.changes == {"display_name": {"before": "bob", "after": "Bob B."}}

    # A user without the Server Admin role edits their own profile: "user:", never "admin:".
    dana = app.test_client()
    assert saml_sign_in(dana, "dana").status_code == 302
    mark = last_id(app)
    assert (
        page_post(dana, "/profile", {"display_name": "Dana D.", "email": "dana@example.com"}).status_code
        == 303
    )
    event = one_event_after(app, mark)
    assert (event.actor, event.action, event.target_name) == ("user:dana", "user.profile_changed", "dana")
    assert event.changes == {
        "display_name": {"before": "dana", "after": "Dana D."},
        "email": {"before": "", "after": "dana@example.com"},
    }


# --- groups -------------------------------------------------------------------------------------


@covers("admin_api.group_create", "admin_api.group_update", "admin_api.group_role", "admin_api.group_delete")
def test_api_group_lifecycle_is_audited(app: Flask, chief: Admin) -> None:
    bob, carol = _user(app, "bob"), _user(app, "carol")
    mark = last_id(app)
    created = chief.api.post("/groups", {"name": "Staff", "members": [bob], "role": "steward"})
    assert created.status_code == 201
    group = created.get_json()["id"]
    event = one_event_after(app, mark)
    assert (event.actor, event.action, event.target_type, event.target_id, event.target_name) == (
        "admin:chief",
        "group.created",
        "Group",
        str(group),
        "Staff",
    )
    assert event.changes == {"name": "Staff", "role": "steward", "members_added": ["bob"]}

    mark = last_id(app)
    assert chief.api.patch(f"/groups/{group}", {"name": "Team", "members": [carol]}).status_code == 200
    event = one_event_after(app, mark)
    assert (event.actor, event.action, event.target_name) == ("admin:chief", "group.updated", "Team")
    assert event.changes == {
        "name": {"before": "Staff", "after": "Team"},
        "members_added": ["carol"],
        "members_removed": ["bob"],
    }

    mark = last_id(app)
    assert chief.api.put(f"/groups/{group}/role", {"role": None}).status_code == 200
    event = one_event_after(app, mark)
    assert (event.action, event.changes) == (
        "group.role_changed",
        {"role": {"before": "steward", "after": None}},
    )

    mark = last_id(app)
    assert chief.api.delete(f"/groups/{group}").status_code == 204
    event = one_event_after(app, mark)
    assert (event.actor, event.action, event.target_id, event.target_name) == (
        "admin:chief",
        "group.deleted",
        str(group),
        "Team",
    )
    assert event.changes == {"role": None, "members_removed": ["carol"]}


@covers(
    "admin_pages.group_create",
    "admin_pages.group_rename",
    "admin_pages.group_add_member",
    "admin_pages.group_remove_member",
    "admin_pages.group_role",
    "admin_pages.group_delete",
)
def test_page_group_edits_are_audited(app: Flask, client: FlaskClient, chief: Admin) -> None:
    bob = _user(app, "bob")
    steps = [
        ("/admin/groups", {"name": "Staff", "role": "explorer"}, "group.created"),
        ("/admin/groups/{id}/rename", {"name": "Team"}, "group.updated"),
        ("/admin/groups/{id}/members", {"username": "bob"}, "group.updated"),
        (f"/admin/groups/{{id}}/members/{bob}/remove", {}, "group.updated"),
        ("/admin/groups/{id}/role", {"role": "composer"}, "group.role_changed"),
        ("/admin/groups/{id}/delete", {}, "group.deleted"),
    ]
    written = []
    group_id = None
    for path, form, action in steps:
        mark = last_id(app)
        response = page_post(client, path.format(id=group_id), form)
        assert response.status_code == 303, response.get_data(as_text=True)
        event = one_event_after(app, mark)
        assert (event.actor, event.action, event.target_type) == ("admin:chief", action, "Group")
        group_id = group_id or int(event.target_id)
        written.append(event.changes)
    assert written == [
        {"name": "Staff", "role": "explorer"},
        {"name": {"before": "Staff", "after": "Team"}},
        {"members_added": ["bob"]},
        {"members_removed": ["bob"]},
        {"role": {"before": "explorer", "after": "composer"}},
        {"role": "composer", "members_removed": []},
    ]


# --- settings, token ----------------------------------------------------------------------------


@covers("admin_api.settings_put", "admin_pages.settings_save")
def test_settings_changes_name_the_admin_with_old_and_new_values(
    app: Flask, client: FlaskClient, chief: Admin
) -> None:
    mark = last_id(app)
    assert chief.api.put("/settings", {"moderation": True, "groups_assign_roles": False}).status_code == 200
    event = one_event_after(app, mark)
    assert (event.actor, event.action, event.target_type) == ("admin:chief", "settings.changed", "setting")
    # Only what changed: groups_assign_roles was already off (never stored: None before).
    assert event.changes == {
        "app.signup_moderation": {"before": None, "after": True},
        "app.groups_assign_roles": {"before": None, "after": False},
    }
    mark = last_id(app)
    assert page_post(client, "/admin/settings", {}).status_code == 303  # every switch off
    event = one_event_after(app, mark)
    assert (event.actor, event.action) == ("admin:chief", "settings.changed")
    assert event.changes == {"app.signup_moderation": {"before": True, "after": False}}


@covers("admin_pages.generate_token")
def test_token_generated_on_the_page_records_fingerprints_only(
    app: Flask, client: FlaskClient, chief: Admin, runner: FlaskCliRunner
) -> None:
    mark = last_id(app)
    first = page_post(client, "/admin/authentication/token", {"months": "2"})
    assert first.status_code == 200
    mark2 = last_id(app)
    # replacing a token in use must be confirmed (the page asks first); unconfirmed, nothing happens
    assert page_post(client, "/admin/authentication/token", {"months": "3"}).status_code == 200
    assert len(events_after(app, mark)) == 1
    confirmed = {"months": "3", "confirm": "yes"}
    assert page_post(client, "/admin/authentication/token", confirmed).status_code == 200
    one, two = events_after(app, mark)
    with app.app_context():
        fingerprint = cu.get_scim_bearer_token()["fingerprint"]
    assert (two.actor, two.action, two.target_type) == ("admin:chief", "scim.token_generated", "setting")
    assert two.changes["fingerprint"] == {"before": one.changes["fingerprint"]["after"], "after": fingerprint}
    assert two.changes["revoked_fingerprint"] == one.changes["fingerprint"]["after"]
    assert (two.changes["months"], one.changes["months"]) == (3, 2)
    assert set(two.changes) == {"fingerprint", "revoked_fingerprint", "months", "expires"}
    assert one_event_after(app, mark2) == two
    assert two.target_id == "scim.token"
    trail = run(runner, "audit").output
    assert fingerprint in trail and "scim.token_generated" in trail
    with app.app_context():
        from scimgate.conf import store as conf_store

        secrets = [conf_store.get(key) for key in ("scim.token.hash", "scim.token.pepper")]
    shown = re.search(r'id="new-token"[^>]*value="([^"]+)"', first.get_data(as_text=True))
    assert shown, first.get_data(as_text=True)
    for secret in (shown.group(1), *secrets, *conf_store_revoked(app)):
        assert secret and secret not in trail


def conf_store_revoked(app: Flask) -> list[str]:
    with app.app_context():
        from scimgate.conf import store as conf_store

        return list(conf_store.get("scim.token.revoked_hashes"))


# --- refusals write nothing ---------------------------------------------------------------------


@covers("admin_api.signup")
def test_refused_changes_write_no_event(app: Flask, client: FlaskClient, chief: Admin) -> None:
    bob = _user(app, "bob")
    staff = _group(chief, "Staff", [bob])
    _group(chief, "Taken")
    mark = last_id(app)
    # the lock-out rule: chief is the only active Server Admin
    assert chief.api.post(f"/users/{chief.id}/suspend").status_code == 403
    assert chief.api.put(f"/users/{chief.id}/role", {"role": "viewer"}).status_code == 403
    assert page_post(client, f"/admin/users/{chief.id}/suspend").status_code == 403
    assert chief.api.put("/settings", {"custom_groups_manage_activation": True}).status_code == 403
    # a taken name, a bad role, an unknown member, sign-up (never allowed under SAML)
    assert chief.api.patch(f"/groups/{staff}", {"name": "Taken"}).status_code == 409
    assert page_post(client, f"/admin/groups/{staff}/rename", {"name": "Taken"}).status_code == 409
    assert chief.api.put(f"/users/{bob}/role", {"role": "emperor"}).status_code == 400
    assert chief.api.patch(f"/groups/{staff}", {"members": [999999]}).status_code == 400
    assert chief.api.post("/signup").status_code == 403
    # no CSRF token, no session, no Server Admin role
    assert client.post(f"/admin/users/{bob}/suspend").status_code == 400
    assert chief.client.post(f"/api/v1/users/{bob}/suspend").status_code == 403
    assert app.test_client().post(f"/api/v1/users/{bob}/suspend").status_code == 401
    viewer = app.test_client()
    assert saml_sign_in(viewer, "viewer.vic").status_code == 302
    assert Api(viewer).post(f"/users/{bob}/suspend").status_code == 403
    assert events_after(app, mark) == []
    with app.app_context():
        assert users.view(users.get(bob)).status is users.Status.ACTIVE


def test_policy_refusals_write_no_event(app: Flask, client: FlaskClient) -> None:
    """With SCIM on, accounts the IdP pushed are the IdP's: suspending one is refused."""
    configure_dev_saml(app, scim=True)
    with app.app_context():
        add_admin("root")
        pushed = add_pushed_user("pushed.pat").id
    from tests.support.signin import password_sign_in

    assert password_sign_in(client, "root").status_code in (302, 303)
    mark = last_id(app)
    assert Api(client).post(f"/users/{pushed}/suspend").status_code == 403
    assert page_post(client, f"/admin/users/{pushed}/suspend").status_code == 403
    assert Api(client).put("/settings", {"moderation": True}).status_code == 403
    assert events_after(app, mark) == []


# --- the CLI ------------------------------------------------------------------------------------


@covers("cli:scim set-client", "cli:scim generate-token", "cli:scim set-basic-auth")
def test_cli_credentials_are_audited_as_the_os_user_without_secrets(
    app: Flask, runner: FlaskCliRunner
) -> None:
    actor = expected_cli_actor()
    mark = last_id(app)
    assert run(runner, "scim", "set-client", "pingfederate").exit_code == 0
    event = one_event_after(app, mark)
    assert (event.actor, event.action) == (actor, "scim.client_changed")
    assert event.changes == {"scim.client": {"before": None, "after": "pingfederate"}}

    mark = last_id(app)
    result = run(
        runner, "scim", "set-basic-auth", "--username", "svc", "--password-stdin", input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    event = one_event_after(app, mark)
    assert (event.actor, event.action) == (actor, "scim.basic_auth_set")
    assert event.changes == {
        "scim.basic_auth.username": {"before": None, "after": "svc"},
        "scim.basic_auth.password_hash": {"before": None, "after": "<set>"},
    }

    mark = last_id(app)
    result = run(runner, "scim", "generate-token", "--months", "1")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    event = one_event_after(app, mark)
    assert (event.actor, event.action) == (actor, "scim.token_generated")
    assert event.changes["fingerprint"]["after"] in result.output

    with app.app_context():
        from scimgate.conf import store as conf_store

        stored = [conf_store.get(key) for key in ("scim.basic_auth.password_hash", "scim.token.hash")]
    trail = run(runner, "audit")
    assert trail.exit_code == 0
    for secret in (PASSWORD, token, *stored):
        assert secret and secret not in trail.output
    # a refused password changes nothing and writes nothing
    mark = last_id(app)
    result = run(runner, "scim", "set-basic-auth", "--username", "x", "--password-stdin", input="short\n")
    assert result.exit_code == 1
    assert events_after(app, mark) == []


@covers("cli:scim enable", "cli:scim disable", "cli:saml configure", "cli:saml enable", "cli:saml disable")
def test_cli_sync_and_saml_switches_are_audited(app: Flask, runner: FlaskCliRunner) -> None:
    actor = expected_cli_actor()
    mark = last_id(app)
    args = (
        "saml",
        "configure",
        "--idp-metadata",
        METADATA_FILE,
        "--base-url",
        "https://x.example",
        "--allow-sha1",
    )
    assert run(runner, *args).exit_code == 0
    event = one_event_after(app, mark)
    assert (event.actor, event.action) == (actor, "saml.configured")
    assert event.changes["saml.allow_sha1"] == {"before": None, "after": True}
    assert event.changes["saml.base_url"] == {"before": None, "after": "https://x.example"}
    size = len(Path(METADATA_FILE).read_text(encoding="utf-8"))
    assert event.changes["saml.idp_metadata"] == {"before": None, "after": f"<{size} characters>"}

    for command, action in (
        (("saml", "enable"), "saml.enabled"),
        (("scim", "set-client", "okta"), "scim.client_changed"),
        (("scim", "generate-token", "--months", "1"), "scim.token_generated"),
        (("scim", "enable"), "scim.sync_enabled"),
        (("scim", "disable"), "scim.sync_disabled"),
        (("saml", "disable"), "saml.disabled"),
    ):
        mark = last_id(app)
        result = run(runner, *command)
        assert result.exit_code == 0, (command, result.output)
        event = one_event_after(app, mark)
        assert (event.actor, event.action) == (actor, action)
    # refused: SAML cannot be disabled twice into anything new... nor SCIM enabled without SAML
    mark = last_id(app)
    assert run(runner, "scim", "enable").exit_code == 1
    assert events_after(app, mark) == []


@covers("cli:saml username-attribute")
def test_cli_username_attribute_is_audited(app: Flask, runner: FlaskCliRunner) -> None:
    mark = last_id(app)
    assert run(runner, "saml", "username-attribute", "uid").exit_code == 0
    assert run(runner, "saml", "username-attribute", "--nameid").exit_code == 0
    set_event, cleared = events_after(app, mark)
    assert (set_event.actor, set_event.action) == (expected_cli_actor(), "saml.username_attribute_set")
    assert set_event.changes == {"saml.username_attribute": {"before": None, "after": "uid"}}
    assert cleared.changes == {"saml.username_attribute": {"before": "uid", "after": None}}


@covers("cli:admin create", "cli:admin reactivate")
def test_cli_admin_create_and_reactivate_are_audited(app: Flask, runner: FlaskCliRunner) -> None:
    mark = last_id(app)
    result = run(runner, "admin", "create", "root", "--password-stdin", input=ADMIN_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    event = one_event_after(app, mark)
    with app.app_context():
        root = users.find_by_username("root")
        root_id, password_hash = root.id, root.password_hash
        root.profile.is_suspended = True
        root.role = "viewer"
        db.session.commit()
    assert (event.actor, event.action, event.target_type, event.target_id, event.target_name) == (
        expected_cli_actor(),
        "admin.created",
        "User",
        str(root_id),
        "root",
    )
    assert event.changes == {"kind": "builtin", "role": "server_admin"}
    mark = last_id(app)
    assert run(runner, "admin", "reactivate", "root").exit_code == 0
    event = one_event_after(app, mark)
    assert event.action == "admin.reactivated"
    assert event.changes == {
        "is_suspended": {"before": True, "after": False},
        "role": {"before": "viewer", "after": "server_admin"},
    }
    mark = last_id(app)
    assert (
        run(runner, "admin", "create", "root", "--password-stdin", input=ADMIN_PASSWORD + "\n").exit_code == 1
    )
    assert run(runner, "admin", "reactivate", "nobody").exit_code == 1
    assert events_after(app, mark) == []
    trail = run(runner, "audit").output
    assert ADMIN_PASSWORD not in trail and password_hash not in trail


@covers("cli:scim cleanup")
def test_cli_provider_cleanup_is_one_event_and_a_refused_one_none(app: Flask, runner: FlaskCliRunner) -> None:
    with app.app_context():
        pushed = add_pushed_user("okta.only")
        pushed.role = "server_admin"  # the only Server Admin: the cleanup would suspend them
        db.session.commit()
    mark = last_id(app)
    assert run(runner, "scim", "cleanup", "--force", "--yes").exit_code == 1
    assert events_after(app, mark) == []
    with app.app_context():
        add_admin("root")
    mark = last_id(app)
    result = run(runner, "scim", "cleanup", "--yes")
    assert result.exit_code == 0, result.output
    event = one_event_after(app, mark)
    assert (event.actor, event.action, event.target_type) == (
        expected_cli_actor(),
        "scim.provider_cleanup",
        "scim",
    )
    assert event.changes == {
        "users_suspended": 1,
        "groups_deleted": 0,
        "memberships_deleted": 0,
        "user_links_deleted": 1,
        "group_links_deleted": 0,
    }


@covers("cli:audit prune")
def test_cli_prune_records_itself(app: Flask, runner: FlaskCliRunner) -> None:
    assert run(runner, "scim", "set-client", "okta").exit_code == 0
    app.config["AUDIT_RETENTION_DAYS"] = 0
    try:
        assert run(runner, "audit", "prune").exit_code == 0
    finally:
        app.config["AUDIT_RETENTION_DAYS"] = 365
    # The older event is gone, the pruning's stays (SQLite may reuse the emptied table's ids).
    (event,) = events_after(app, 0)
    assert (event.actor, event.action) == (expected_cli_actor(), "audit.pruned")
    assert event.changes == {"deleted": 1, "retention_days": 0}


@covers("cli:dev bootstrap")
def test_dev_bootstrap_records_each_step(app: Flask, runner: FlaskCliRunner) -> None:
    app.config["DEV_IDP_ENABLED"] = False
    try:
        mark = last_id(app)
        assert run(runner, "dev", "bootstrap").exit_code == 1
        assert events_after(app, mark) == []
    finally:
        app.config["DEV_IDP_ENABLED"] = True
    result = run(runner, "dev", "bootstrap")
    assert result.exit_code == 0, result.output
    written = events_after(app, mark)
    assert [e.action for e in written] == [
        "saml.configured",
        "saml.enabled",
        "scim.client_changed",
        "scim.token_generated",
        "scim.sync_enabled",
    ]
    assert {e.actor for e in written} == {expected_cli_actor()}
    assert result.output.strip().splitlines()[-1] not in run(runner, "audit").output


@pytest.mark.skipif(sys.platform == "win32" or __import__("os").getuid() != 0, reason="sudo runs as root")
def test_cli_under_sudo_names_the_person_who_ran_sudo(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUDO_USER", "alice")
    monkeypatch.setenv("USER", "mallory")  # the environment's USER/LOGNAME are not trusted
    mark = last_id(app)
    assert run(runner, "scim", "set-client", "okta").exit_code == 0
    assert one_event_after(app, mark).actor == "cli:alice"


# --- every mutating route and command has its audit test ---------------------------------------

# Commands that change no audited data: they read, serve, or manage the schema itself.
READ_ONLY_OR_SCHEMA = {
    "cli:conf",
    "cli:plugins",
    "cli:routes",
    "cli:run",
    "cli:shell",
    "cli:saml status",
    "cli:scim status",
    "cli:init-db",  # schema migrations: no row of the trail's subjects changes
}


def test_every_mutating_admin_route_has_an_audit_test(app: Flask) -> None:
    endpoints = mutating_endpoints(app)
    assert "admin_api.suspend" in endpoints and "admin_pages.settings_save" in endpoints
    missing = sorted(e for e in endpoints if e not in COVERED)
    assert missing == [], f"mutating routes without an audit test (add one with @covers): {missing}"
    stale = sorted(e for e in COVERED if not e.startswith("cli:") and e not in endpoints)
    assert stale == []


def test_every_mutating_command_has_an_audit_test(app: Flask) -> None:
    commands = {
        c for c in cli_commands(app, cli.main) if not c.startswith("cli:db ")
    }  # Flask-Migrate's schema tools
    assert "cli:scim set-client" in commands
    missing = sorted(c for c in commands if c not in COVERED and c not in READ_ONLY_OR_SCHEMA)
    assert missing == [], f"commands without an audit test (add one with @covers): {missing}"
    stale = sorted(c for c in COVERED if c.startswith("cli:") and c not in commands)
    assert stale == []


def test_every_action_written_by_the_code_is_in_the_inventory() -> None:
    """docs/audit.md names every action the code can write (literals passed to the audit)."""
    root = Path(__file__).resolve().parent.parent
    literal = re.compile(r'(?:_audit\(|audit\.(?:record|conf_change)\(\s*)"([a-z_]+\.[a-z_]+)"')
    conditional = re.compile(r'action = "([a-z_]+\.[a-z_]+)" if [^\n]+ else "([a-z_]+\.[a-z_]+)"')
    actions: set[str] = set()
    for source in (root / "scimgate").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        actions.update(literal.findall(text))
        for pair in conditional.findall(text):
            actions.update(pair)
    assert {"user.suspended", "scim.token_generated", "settings.changed", "user.approved"} <= actions
    inventory = (root / "docs" / "audit.md").read_text(encoding="utf-8")
    missing = sorted(a for a in actions if f"`{a}`" not in inventory)
    assert missing == [], f"actions missing from docs/audit.md: {missing}"
