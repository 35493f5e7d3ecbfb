"""Every row of the reference's two policy tables, in every state, through the JSON API.

The expected answers are written here from the reference (not read from ``scimgate.accounts.policies``), so
a wrong row in the module fails a test. Table 1 ("How Does Group Sync Over SCIM Work?") runs each
row with SCIM sync off and on; table 2 ("Role Assignment Using Custom Groups") runs each row with
"Use Groups to Assign Roles" off and on, each with SCIM off and on ("SCIM enabled or disabled").
Rows with the footnote exception run once per kind of target account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scimgate.accounts import groups as app_groups
from scimgate.accounts import policies, settings, users
from scimgate.extensions import db
from tests.support.config import add_group, add_pushed_user
from tests.support.signin import Api, add_admin, password_sign_in, saml_sign_in, set_scim


@dataclass
class World:
    """The accounts and groups every case can act on (ids)."""

    admin: int
    pushed: int
    saml_user: int
    app_group: int
    scim_group: int
    admins_group: int


def _world(app: Flask) -> World:
    with app.app_context():
        admin = add_admin()
        pushed = add_pushed_user("pushed.user")
        saml_user = users.create_saml_user("saml.user", pending=False)
        app_group = app_groups.create_app_group("analysts", [saml_user.id])
        scim_group = add_group("engineers", [pushed])
        # With "Use Groups to Assign Roles" on, the admin stays admin through this group.
        admins = app_groups.create_app_group("admins", [admin.id], "server_admin")
        return World(admin.id, pushed.id, saml_user.id, app_group.id, scim_group.id, admins.id)


Action = Callable[[Api, World, FlaskClient], Any]


@dataclass(frozen=True)
class Case:
    """One row (and variant): the API call and the expected status per column."""

    row: str
    variant: str
    action: Action
    expected: tuple[int, int]  # (first column, second column)
    refusal: str = ""  # the error code when refused
    detail: str = ""  # words the refusal must contain


def _signup(api: Api, world: World, client: FlaskClient) -> Any:
    return client.application.test_client().post("/api/v1/signup", json={"username": "newcomer"})


def _idp_login(api: Api, world: World, client: FlaskClient) -> Any:
    browser = client.application.test_client()
    signed = saml_sign_in(browser, "pushed.user")
    assert signed.status_code == 302, signed.get_data(as_text=True)
    return browser.get("/api/v1/session")


SCIM_CASES: tuple[Case, ...] = (
    Case("signup", "anonymous", _signup, (403, 403), "signup_not_offered", "log in from their IdP"),
    Case("idp_login", "scim_pushed_user", _idp_login, (200, 200)),
    Case(
        "moderate_signups",
        "turn_on",
        lambda api, w, c: api.put("/settings", {"moderation": True}),
        (200, 403),
        "moderation_unavailable",
        "sign-up moderation cannot be enabled while SCIM sync is enabled",
    ),
    Case(
        "activate_user",
        "pushed_from_idp",
        lambda api, w, c: api.post(f"/users/{w.pushed}/activate"),
        (200, 403),
        "managed_by_scim",
        "pushed from the IdP",
    ),
    Case(
        "activate_user",
        "not_pushed",
        lambda api, w, c: api.post(f"/users/{w.saml_user}/activate"),
        (200, 200),
    ),
    Case("activate_user", "builtin", lambda api, w, c: api.post(f"/users/{w.admin}/activate"), (200, 200)),
    Case(
        "suspend_user",
        "pushed_from_idp",
        lambda api, w, c: api.post(f"/users/{w.pushed}/suspend"),
        (200, 403),
        "managed_by_scim",
        "pushed from the IdP",
    ),
    Case(
        "suspend_user", "not_pushed", lambda api, w, c: api.post(f"/users/{w.saml_user}/suspend"), (200, 200)
    ),
    Case(
        "change_display_name",
        "own_profile",
        lambda api, w, c: api.patch(f"/users/{w.admin}/profile", {"display_name": "Ada"}),
        (200, 403),
        "display_name_managed_by_scim",
        "the Display Name is supplied using an automatic process",
    ),
    Case(
        "change_email",
        "own_profile",
        lambda api, w, c: api.patch(f"/users/{w.admin}/profile", {"email": "ada@example.com"}),
        (200, 403),
        "email_managed_by_scim",
        "contact your directory admin to change the email",
    ),
    Case(
        "manage_app_group", "create", lambda api, w, c: api.post("/groups", {"name": "stewards"}), (201, 201)
    ),
    Case(
        "manage_app_group",
        "edit",
        lambda api, w, c: api.patch(f"/groups/{w.app_group}", {"name": "analysts-2", "members": [w.pushed]}),
        (200, 200),
    ),
    Case("manage_app_group", "delete", lambda api, w, c: api.delete(f"/groups/{w.app_group}"), (204, 204)),
    Case(
        "create_delete_scim_group",
        "create",
        lambda api, w, c: api.post("/groups", {"name": "pushed-by-hand", "kind": "scim"}),
        (403, 403),
        "scim_group_managed_by_idp",
        "cannot be created or deleted manually",
    ),
    Case(
        "create_delete_scim_group",
        "delete",
        lambda api, w, c: api.delete(f"/groups/{w.scim_group}"),
        (403, 403),
        "scim_group_managed_by_idp",
        "cannot be created or deleted manually",
    ),
    Case(
        "edit_scim_group",
        "rename_and_members",
        lambda api, w, c: api.patch(f"/groups/{w.scim_group}", {"name": "x", "members": []}),
        (403, 403),
        "scim_group_managed_by_idp",
        "managed by the IdP",
    ),
    Case(
        "assign_group_role",
        "app_group",
        lambda api, w, c: api.put(f"/groups/{w.app_group}/role", {"role": "steward"}),
        (200, 200),
    ),
    Case(
        "assign_group_role",
        "scim_group",
        lambda api, w, c: api.put(f"/groups/{w.scim_group}/role", {"role": "composer"}),
        (200, 200),
    ),
    Case(
        "enable_custom_groups_activation",
        "turn_on",
        lambda api, w, c: api.put("/settings", {"custom_groups_manage_activation": True}),
        (200, 403),
        "custom_groups_activation_unavailable",
        "cannot be enabled when the automatic identity management process is in use",
    ),
)

ROLE_CASES: tuple[Case, ...] = (
    Case(
        "assign_group_role",
        "any_group",
        lambda api, w, c: api.put(f"/groups/{w.scim_group}/role", {"role": "catalog_admin"}),
        (200, 200),
    ),
    Case(
        "assign_user_role",
        "saml_user",
        lambda api, w, c: api.put(f"/users/{w.saml_user}/role", {"role": "explorer"}),
        (200, 403),
        "roles_assigned_by_groups",
        "the highest one wins",
    ),
)


def _check(app: Flask, client: FlaskClient, case: Case, column: int) -> None:
    world = _world(app)
    assert password_sign_in(client, "admin").status_code == 302
    response = case.action(Api(client), world, client)
    assert response.status_code == case.expected[column], response.get_data(as_text=True)
    if response.status_code == 403:
        body = response.get_json()
        assert body["error"] == case.refusal
        assert case.detail in body["detail"]


@pytest.mark.parametrize("scim", [False, True], ids=["scim_off", "scim_on"])
@pytest.mark.parametrize("case", SCIM_CASES, ids=[f"{c.row}-{c.variant}" for c in SCIM_CASES])
def test_scim_table(app: Flask, client: FlaskClient, case: Case, scim: bool) -> None:
    set_scim(app, scim)
    _check(app, client, case, int(scim))


@pytest.mark.parametrize("scim", [False, True], ids=["scim_off", "scim_on"])
@pytest.mark.parametrize("group_roles", [False, True], ids=["group_roles_off", "group_roles_on"])
@pytest.mark.parametrize("case", ROLE_CASES, ids=[f"{c.row}-{c.variant}" for c in ROLE_CASES])
def test_role_table(app: Flask, client: FlaskClient, case: Case, group_roles: bool, scim: bool) -> None:
    set_scim(app, scim)
    with app.app_context():
        settings.write({"groups_assign_roles": group_roles})
    _check(app, client, case, int(group_roles))


def test_every_row_of_both_tables_has_a_case() -> None:
    assert {c.row for c in SCIM_CASES} == {r.key for r in policies.SCIM_TABLE} | {
        policies.EDIT_SCIM_GROUP.key
    }
    assert {c.row for c in ROLE_CASES} == {r.key for r in policies.ROLE_TABLE}


def test_tables_say_what_the_reference_says() -> None:
    """The module's two tables, cell by cell (Yes/No as printed in the reference)."""
    scim = {row.key: row.allowed for row in policies.SCIM_TABLE}
    assert scim == {
        "signup": (False, False),
        "idp_login": (True, True),
        "moderate_signups": (True, False),
        "activate_user": (True, False),
        "suspend_user": (True, False),
        "change_display_name": (True, False),
        "change_email": (True, False),
        "manage_app_group": (True, True),
        "create_delete_scim_group": (False, False),
        "assign_group_role": (True, True),
        "enable_custom_groups_activation": (True, False),
    }
    assert {row.key: row.allowed for row in policies.ROLE_TABLE} == {
        "assign_group_role": (True, True),
        "assign_user_role": (True, False),
    }
    assert policies.SCIM_COLUMNS == ("SAML, SCIM disabled", "SAML, SCIM enabled")


def test_effective_settings_follow_scim(app: Flask) -> None:
    """Moderation stored on before sync is enabled stops applying while sync is on."""
    set_scim(app, False)
    with app.app_context():
        settings.write({"moderation": True, "custom_groups_manage_activation": True})
        assert settings.current().moderation is True
    set_scim(app, True)
    with app.app_context():
        current = settings.current()
        assert (current.moderation, current.custom_groups_manage_activation) == (False, False)
        db.session.remove()
