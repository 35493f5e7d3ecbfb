"""Helpers for the admin lock-out tests: a SAML admin signed in for real, page forms with CSRF."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from scimgate.accounts import groups as app_groups
from scimgate.accounts import settings, users
from scimgate.extensions import db
from tests.support.signin import Api, configure_dev_saml, saml_sign_in


@dataclass(frozen=True)
class Admin:
    """The only Server Admin, signed in over SAML, with a JSON API client on the same session."""

    id: int
    client: FlaskClient
    api: Api


def sole_saml_admin(app: Flask, client: FlaskClient, *, through_group: bool = False) -> Admin:
    """Sign in "chief", a SAML account and the only Server Admin: by its own role, or (with
    ``through_group``) through the application-defined group "Admins" while groups assign roles."""
    configure_dev_saml(app)
    assert saml_sign_in(client, "chief").status_code == 302
    with app.app_context():
        chief = users.find_by_username("chief")
        if through_group:
            app_groups.create_app_group("Admins", [chief.id], "server_admin")
            settings.write({"groups_assign_roles": True})
        else:
            chief.role = "server_admin"
            db.session.commit()
        chief_id = chief.id
    assert client.get("/admin/users").status_code == 200
    return Admin(chief_id, client, Api(client))


def page_post(client: FlaskClient, path: str, data: dict | None = None):
    """Post an admin page form with this session's CSRF token."""
    html = client.get("/profile").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return client.post(path, data={"csrf_token": match.group(1), **(data or {})})


def admin_state(app: Flask, user_id: int) -> tuple[str, str, list[str]]:
    """(status, effective role, group names) of a user: what a refusal must leave unchanged."""
    with app.app_context():
        account = users.view(users.get(user_id))
        return account.status.value, account.role.value, [g.external_unique_name for g in account.groups]
