"""``scimgate saml ...``: the IdP metadata and options, SAML on/off, status, and where sign-in reads
the username."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from scimgate import configuration_utils
from scimgate.accounts import admins
from scimgate.accounts.errors import AccountError
from scimgate.cli.common import clean_errors, fail
from scimgate.conf import saml as saml_config
from scimgate.scim.safe_text import escape
from scimgate.signin import saml_sp
from scimgate.web import timefmt


@click.group("saml")
def saml() -> None:
    """Configure SAML, the prerequisite of SCIM."""


@saml.command("configure")
@click.option(
    "--idp-metadata",
    "metadata_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="the IdP's SAML metadata XML file (required the first time)",
)
@click.option("--sp-entity-id", default=None, help="entity id of scimgate as a SAML service provider")
@click.option("--base-url", default=None, help="public base URL of scimgate, e.g. https://scim.example.com")
@click.option(
    "--allow-sha1/--refuse-sha1",
    default=None,
    help="accept responses signed with RSA-SHA1, for old IdPs (default: refused; unchanged if not given)",
)
@click.option(
    "--idp-initiated/--no-idp-initiated",
    default=None,
    help="accept sign-ins started on the IdP's dashboard (default: accepted; unchanged if not given)",
)
@with_appcontext
@clean_errors
def saml_configure(
    metadata_file: str | None,
    sp_entity_id: str | None,
    base_url: str | None,
    allow_sha1: bool | None,
    idp_initiated: bool | None,
) -> None:
    """Validate the IdP metadata XML and store it, or change the options of the stored one."""
    if metadata_file is None:
        if sp_entity_id is not None or base_url is not None:
            fail("--sp-entity-id and --base-url need --idp-metadata FILE too")
        if allow_sha1 is None and idp_initiated is None:
            fail("nothing to configure: give --idp-metadata FILE, or an option such as --no-idp-initiated")
        configuration_utils.set_saml_options(allow_sha1=allow_sha1, idp_initiated=idp_initiated)
    else:
        try:
            xml = Path(metadata_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read the IdP metadata file {metadata_file!r}: {exc}")
        configuration_utils.configure_saml(
            xml,
            sp_entity_id=sp_entity_id,
            base_url=base_url,
            allow_sha1=allow_sha1,
            idp_initiated=idp_initiated,
        )
    status = saml_config.get_saml_status()
    sha1 = "accepted" if status["allow_sha1"] else "refused"
    idp = "accepted" if status["idp_initiated"] else "refused"
    click.echo(
        escape(
            f"SAML configured for IdP {status['idp_entity_id']} (RSA-SHA1 signatures {sha1}, "
            f"IdP-initiated sign-in {idp})"
        )
    )


@saml.command("enable")
@with_appcontext
@clean_errors
def saml_enable() -> None:
    """Enable SAML as the authentication method."""
    configuration_utils.enable_saml()
    click.echo("SAML enabled")


@saml.command("disable")
@with_appcontext
@clean_errors
def saml_disable() -> None:
    """Disable SAML (refused while SCIM sync is enabled, or while no built-in account is an active
    Server Admin: only built-in accounts sign in without SAML)."""
    try:
        admins.require_a_builtin_admin_without_saml("turning SAML off")
    except AccountError as exc:
        fail(exc.detail)
    configuration_utils.disable_saml()
    click.echo("SAML disabled")


@saml.command("status")
@with_appcontext
def saml_status() -> None:
    """Show the SAML configuration."""
    for key, value in saml_config.get_saml_status().items():
        if key.endswith("_at") and value:
            value = timefmt.for_people(value)
        click.echo(escape(f"{key + ':':<15} {value if value is not None else '<not set>'}"))


@saml.command("username-attribute")
@click.argument("attribute", required=False)
@click.option("--nameid", is_flag=True, help="take the username from the NameID (the default)")
@with_appcontext
def username_attribute(attribute: str | None, nameid: bool) -> None:
    """Choose where SAML sign-in reads the username: the NameID, or an assertion attribute."""
    if nameid == bool(attribute):
        fail("give either an ATTRIBUTE name or --nameid")
    try:
        saml_sp.set_username_attribute(None if nameid else attribute)
    except ValueError as exc:
        fail(escape(exc))
    click.echo(
        escape("usernames come from the NameID" if nameid else f"usernames come from attribute {attribute!r}")
    )
