"""``scimgate scim ...``: the SCIM client, its credentials, sync on/off, status and provider cleanup."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from scimgate import configuration_utils
from scimgate.accounts import admins
from scimgate.accounts import cleanup as provider_cleanup
from scimgate.accounts.errors import AccountError
from scimgate.cli.common import clean_errors, fail, read_password
from scimgate.conf import saml as saml_config
from scimgate.scim.safe_text import escape
from scimgate.web import timefmt


def _keep_an_admin(action: str, *, scim_enabled: bool) -> None:
    """Refuse (one line, exit 1) a switch of SCIM sync that would leave no active Server Admin:
    turning sync off brings back "Use Custom Groups to manage user suspension and activation"."""
    try:
        admins.require_an_admin_remains(action, admins.settings_after(scim_enabled=scim_enabled))
    except AccountError as exc:
        fail(exc.detail)


@click.group("scim")
def scim() -> None:
    """Configure SCIM: client, credentials, sync on/off, provider cleanup."""


@scim.command("set-client")
@click.argument("name")
@with_appcontext
@clean_errors
def set_client(name: str) -> None:
    """Set the SCIM client (IdP) that pushes users and groups."""
    configuration_utils.update_scim_client(name)
    click.echo(escape(f"SCIM client set to {name}"))


@scim.command("set-basic-auth")
@click.option("--username", required=True, help="username of the SCIM service account")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@with_appcontext
@clean_errors
def set_basic_auth(username: str, password_stdin: bool) -> None:
    """Set the basic-auth username and password (the password is never taken from argv)."""
    password = read_password(password_stdin)
    configuration_utils.set_scim_basic_auth(username, password)  # one change, refused as a whole
    click.echo(escape(f"basic authentication set for {username}"))


@scim.command("generate-token")
@click.option("--months", required=True, type=int, help="validity, 1 to 6 months")
@with_appcontext
@clean_errors
def generate_token(months: int) -> None:
    """Generate a bearer token (the previous one stops working); the token is the last line."""
    token = configuration_utils.generate_scim_bearer_token(months)
    info = configuration_utils.get_scim_bearer_token()
    expires = timefmt.for_people(info["expires"])
    click.echo(f"token {info['fingerprint']} expires {expires}; it will not be shown again:")
    click.echo(token)


@scim.command("enable")
@with_appcontext
@clean_errors
def enable() -> None:
    """Enable SCIM sync after checking every prerequisite."""
    configuration_utils.enable_scim_user_and_group_sync()
    click.echo("SCIM sync enabled")


@scim.command("disable")
@with_appcontext
@clean_errors
def disable() -> None:
    """Disable SCIM sync; synced users and groups are kept."""
    _keep_an_admin("turning SCIM sync off", scim_enabled=False)
    configuration_utils.disable_sync_from_directory_provider()
    click.echo("SCIM sync disabled (synced users and groups are kept)")


def _status_lines() -> list[str]:
    basic = configuration_utils.get_scim_basic_auth_info()
    token = configuration_utils.get_scim_bearer_token()
    saml = saml_config.get_saml_status()
    auth = configuration_utils.auth_status()  # the same answer as the preflight and the page
    chosen = "" if configuration_utils.is_scim_client_chosen() else " (default, not set)"
    refused = {
        s: f" (not accepted by {auth.client})" if s not in auth.accepted else "" for s in ("basic", "bearer")
    }
    if token["configured"]:
        created = timefmt.for_people(token["created"])
        warn = "EXPIRED: " if token["expired"] else "EXPIRES SOON: " if token["expiring"] else ""
        token_line = f"{token['fingerprint']} created {created}, {warn}{token['state']}"
        token_line += refused["bearer"]
    else:
        token_line = "<not set>"
    password_set_at = timefmt.for_people(basic["password_set_at"])
    password = f"<set> (set {password_set_at})" if basic["password_set"] else "<not set>"
    if basic["username"] or basic["password_set"]:
        password += refused["basic"]
    sync = "enabled" if configuration_utils.check_if_scim_sync_is_enabled() else "disabled"
    problem = auth.problem()
    ready = f"OK ({', '.join(auth.usable)})" if problem is None else f"NOT READY: {problem}"
    return [
        f"client:          {configuration_utils.get_scim_client()}{chosen}",
        f"sync:            {sync}",
        f"basic username:  {basic['username'] or '<not set>'}",
        f"basic password:  {password}",
        f"bearer token:    {token_line}",
        f"authentication:  {ready}",
        f"saml:            {'configured' if saml['configured'] else 'not configured'}, "
        f"{'enabled' if saml['enabled'] else 'disabled'}",
        f"saml idp:        {saml['idp_entity_id'] or '<not set>'}",
        f"saml idp-init:   {'accepted' if saml['idp_initiated'] else 'refused'} (from the IdP dashboard)",
    ]


@scim.command("status")
@with_appcontext
def status() -> None:
    """Show client, sync state, credentials (never secrets) and SAML state."""
    for line in _status_lines():
        click.echo(escape(line))  # stored names, printed escaped (scimgate.scim.safe_text)


@scim.command("cleanup")
@click.option("--dry-run", is_flag=True, help="only print what would change")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option("--force", is_flag=True, help="run even when no active built-in Server Admin exists")
@with_appcontext
def cleanup(dry_run: bool, yes: bool, force: bool) -> None:
    """Suspend SCIM users, delete SCIM groups and their memberships, clear SCIM links."""
    counts = provider_cleanup.count_cleanup()
    summary = (
        f"users to suspend: {counts.users_suspended}, groups to delete: {counts.groups_deleted}, "
        f"memberships to delete: {counts.memberships_deleted}, user links to remove: "
        f"{counts.user_links_deleted}, group links to remove: {counts.group_links_deleted}"
    )
    click.echo(summary)
    if dry_run:
        click.echo("dry run: nothing changed")
        return
    lockout = provider_cleanup.admin_lockout_problem()
    if lockout and not force:
        fail(lockout + "; or pass --force")
    if configuration_utils.check_if_scim_sync_is_enabled():
        click.echo("warning: SCIM sync is still enabled; the IdP may push records again", err=True)
    if not yes and not click.confirm("Proceed with the cleanup?", default=False):
        fail("cleanup cancelled; nothing changed")
    try:
        done = provider_cleanup.run_cleanup()
    except AccountError as exc:
        fail(exc.detail)
    links = done.user_links_deleted + done.group_links_deleted
    click.echo(
        f"cleanup done: {done.users_suspended} users suspended, {done.groups_deleted} groups deleted, "
        f"{done.memberships_deleted} memberships deleted, {links} SCIM links removed"
    )
