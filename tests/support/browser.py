"""Set-up steps the browser tests share: SCIM configured against the live server, a password sign-in."""

from __future__ import annotations

from flask import Flask

from scimgate import configuration_utils as cu
from scimgate.signin import dev_idp


def configure_live_scim(app: Flask, live_url: str, *, bearer: bool = True) -> str | None:
    """SAML through the development IdP at the live URL, client okta, sync on.

    With ``bearer``, a first token is made here and returned; otherwise the credential that lets
    sync be enabled is basic auth, and no bearer token exists yet.
    """
    token = None
    with app.app_context():
        cu.configure_saml(
            dev_idp.idp_metadata(live_url), sp_entity_id=f"{live_url}/saml/metadata", base_url=live_url
        )
        cu.enable_saml()
        cu.update_scim_client("okta")
        if bearer:
            token = cu.generate_scim_bearer_token(1)
        else:
            cu.set_scim_basic_auth_username("scim-service")
            cu.set_scim_basic_auth_password("scim_account_password_12345&&")
        cu.enable_scim_user_and_group_sync()
    return token


def sign_in_with_password(page, username: str, password: str, start: str = "/admin/authentication") -> None:
    """Open ``start``, get sent to /login, sign in, come back to ``start``."""
    page.goto(start)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{start}")
