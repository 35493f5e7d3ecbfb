"""``scimgate dev bootstrap``: a ready-to-use development set-up (development IdP, client, token, sync).

Refused unless the configuration enables the development IdP, so it can never run in production.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from scimgate import configuration_utils
from scimgate.cli.common import clean_errors, fail
from scimgate.signin import dev_idp

DEV_IDP_BASE_URL = "http://localhost:5000"


@click.group("dev")
def dev() -> None:
    """Development helpers (only with a configuration that enables the development IdP)."""


@dev.command("bootstrap")
@click.option("--months", default=1, type=int, show_default=True, help="token validity")
@with_appcontext
@clean_errors
def dev_bootstrap(months: int) -> None:
    """Configure the development IdP, client, token and sync; print the base URL and the token."""
    app = current_app
    if not app.config.get("DEV_IDP_ENABLED"):
        fail(
            "dev bootstrap is only allowed with DEV_IDP_ENABLED (SCIMGATE_CONFIG=development); "
            f"the current configuration is {app.config.get('CONFIG_NAME')!r}"
        )
    base_url = (app.config.get("BASE_URL") or "http://localhost:5000").rstrip("/")
    # The shipped metadata names the development IdP at DEV_IDP_BASE_URL; move it to our base URL.
    shipped = (dev_idp.DEV_DIR / "idp-metadata.xml").read_text(encoding="utf-8")
    metadata = shipped.replace(DEV_IDP_BASE_URL, base_url)
    configuration_utils.configure_saml(
        metadata,
        sp_entity_id=f"{base_url}/saml/metadata",
        base_url=base_url,
    )
    configuration_utils.enable_saml()
    if not configuration_utils.is_scim_client_chosen():
        configuration_utils.update_scim_client("okta")
    token = configuration_utils.generate_scim_bearer_token(months)
    configuration_utils.enable_scim_user_and_group_sync()
    click.echo(f"SCIM base URL: {base_url}/scim/v2")
    click.echo(f"sign in: {base_url}/saml/login (development IdP: choose any username)")
    click.echo(f"or from the development IdP's dashboard (IdP-initiated): {base_url}/dev-idp/start")
    click.echo(f"client: {configuration_utils.get_scim_client()}; bearer token (shown once):")
    click.echo(token)
