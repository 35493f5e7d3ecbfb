"""The ``scimgate`` command: Flask's ``run``/``shell``/``db`` plus the SCIM and SAML set-up commands.

Every command exits 0 on success and, on a refused or invalid input, prints one clear line to
stderr and exits 1 (no traceback): admins run these by hand and from set-up scripts.
Secrets never travel in argv: the password comes from a prompt or stdin, the token is printed once.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import sqlalchemy.engine.url as sa_url
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from scimgate import configuration_utils
from scimgate.accounts import admins
from scimgate.accounts import cleanup as provider_cleanup
from scimgate.accounts import cli as accounts_cli
from scimgate.accounts.errors import AccountError
from scimgate.api import db_faults
from scimgate.conf import saml as saml_config
from scimgate.conf import store as conf_store
from scimgate.conf.keys import BY_NAME, KEYS, KeyInfo
from scimgate.configuration_utils import ScimConfigurationError
from scimgate.db import transactions as database
from scimgate.scim.safe_text import escape
from scimgate.signin import dev_idp
from scimgate.web import timefmt

P = ParamSpec("P")
R = TypeVar("R")

DEV_IDP_BASE_URL = "http://localhost:5000"


def _create_app() -> Flask:
    from scimgate import create_app

    app = create_app(overrides={"CREATE_FILES_AT_START": False})  # `--help` writes nothing
    init_app(app)
    return app


def init_app(app: Flask) -> None:
    """Pre-import the reference's configuration functions in ``scimgate shell``."""

    @app.shell_context_processor
    def _shell_context() -> dict[str, Any]:
        from scimgate import models
        from scimgate.extensions import db

        names = [
            "update_scim_client",
            "get_scim_client",
            "set_scim_basic_auth_username",
            "set_scim_basic_auth_password",
            "get_scim_basic_auth_info",
            "get_scim_bearer_token",
            "generate_scim_bearer_token",
            "enable_scim_user_and_group_sync",
            "check_if_scim_sync_is_enabled",
            "disable_sync_from_directory_provider",
        ]
        context: dict[str, Any] = {name: getattr(configuration_utils, name) for name in names}
        context.update(
            configure_saml=configuration_utils.configure_saml,
            enable_saml=configuration_utils.enable_saml,
            disable_saml=configuration_utils.disable_saml,
            get_saml_status=saml_config.get_saml_status,
            db=db,
            models=models,
        )
        return context


class _Commands(FlaskGroup):
    """Flask's command group, where a database that cannot be used (down, busy, disk full) ends
    any command with one line naming the cause and exit status 1, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            fault = db_faults.classify(exc)
            if fault is None:
                raise
            cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1]
            raise click.ClickException(f"{fault.code.replace('_', ' ')}: {''.join(cause)}") from None


main = _Commands(create_app=_create_app, help="scimgate: a SCIM 2.0 service provider.")


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _clean_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a refused configuration into one line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (ScimConfigurationError, OSError) as exc:
            raise click.ClickException(escape(exc)) from None

    return wrapper


def _keep_an_admin(action: str, *, scim_enabled: bool) -> None:
    """Refuse (one line, exit 1) a switch of SCIM sync that would leave no active Server Admin:
    turning sync off brings back "Use Custom Groups to manage user suspension and activation"."""
    try:
        admins.require_an_admin_remains(action, admins.settings_after(scim_enabled=scim_enabled))
    except AccountError as exc:
        _fail(exc.detail)


# --- database and configuration ----------------------------------------------------------------


@main.command("init-db")
@with_appcontext
@_clean_errors
def init_db() -> None:
    """Create or upgrade the database schema to the latest migration."""
    from flask_migrate import upgrade

    url = sa_url.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        os.makedirs(os.path.dirname(url.database) or ".", exist_ok=True)  # the app did not make it
        database.create_sqlite_file_owner_only(str(url))  # before SQLite would create it 0644
    try:
        upgrade()
    except Exception as exc:
        _fail(f"database upgrade failed: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    click.echo("database is at the latest schema version")


def _display(info: KeyInfo) -> str:
    entry = conf_store.get_entry(info.name)
    if entry is None:
        return "<not set>"
    when = timefmt.for_people(entry.updated_at) or "?"
    if info.display == "secret":
        return f"<set> (set {when})"
    if info.display == "size":
        return f"<{len(str(entry.value).encode('utf-8'))} bytes> (set {when})"
    return f"{entry.value!r}"


@main.command("conf")
@click.argument("key", required=False)
@with_appcontext
def conf(key: str | None) -> None:
    """List the SCIM/SAML configuration keys, or print one; secrets show only as <set>."""
    if key is not None:
        info = BY_NAME.get(key)
        if info is None:
            _fail(f"unknown configuration key {key!r}; known keys: {', '.join(BY_NAME)}")
        click.echo(escape(_display(info)))
        return
    width = max(len(info.name) for info in KEYS)
    for info in KEYS:
        click.echo(escape(f"{info.name.ljust(width)}  {_display(info)}"))


# --- scim -------------------------------------------------------------------------------------


@main.group("scim")
def scim() -> None:
    """Configure SCIM: client, credentials, sync on/off, provider cleanup."""


@scim.command("set-client")
@click.argument("name")
@with_appcontext
@_clean_errors
def set_client(name: str) -> None:
    """Set the SCIM client (IdP) that pushes users and groups."""
    configuration_utils.update_scim_client(name)
    click.echo(escape(f"SCIM client set to {name}"))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            _fail("no password on stdin (expected one line)")
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@scim.command("set-basic-auth")
@click.option("--username", required=True, help="username of the SCIM service account")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@with_appcontext
@_clean_errors
def set_basic_auth(username: str, password_stdin: bool) -> None:
    """Set the basic-auth username and password (the password is never taken from argv)."""
    password = _read_password(password_stdin)
    configuration_utils.set_scim_basic_auth(username, password)  # one change, refused as a whole
    click.echo(escape(f"basic authentication set for {username}"))


@scim.command("generate-token")
@click.option("--months", required=True, type=int, help="validity, 1 to 6 months")
@with_appcontext
@_clean_errors
def generate_token(months: int) -> None:
    """Generate a bearer token (the previous one stops working); the token is the last line."""
    token = configuration_utils.generate_scim_bearer_token(months)
    info = configuration_utils.get_scim_bearer_token()
    expires = timefmt.for_people(info["expires"])
    click.echo(f"token {info['fingerprint']} expires {expires}; it will not be shown again:")
    click.echo(token)


@scim.command("enable")
@with_appcontext
@_clean_errors
def enable() -> None:
    """Enable SCIM sync after checking every prerequisite."""
    configuration_utils.enable_scim_user_and_group_sync()
    click.echo("SCIM sync enabled")


@scim.command("disable")
@with_appcontext
@_clean_errors
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
        _fail(lockout + "; or pass --force")
    if configuration_utils.check_if_scim_sync_is_enabled():
        click.echo("warning: SCIM sync is still enabled; the IdP may push records again", err=True)
    if not yes and not click.confirm("Proceed with the cleanup?", default=False):
        _fail("cleanup cancelled; nothing changed")
    try:
        done = provider_cleanup.run_cleanup()
    except AccountError as exc:
        _fail(exc.detail)
    links = done.user_links_deleted + done.group_links_deleted
    click.echo(
        f"cleanup done: {done.users_suspended} users suspended, {done.groups_deleted} groups deleted, "
        f"{done.memberships_deleted} memberships deleted, {links} SCIM links removed"
    )


# --- saml -------------------------------------------------------------------------------------


@main.group("saml")
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
@_clean_errors
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
            _fail("--sp-entity-id and --base-url need --idp-metadata FILE too")
        if allow_sha1 is None and idp_initiated is None:
            _fail("nothing to configure: give --idp-metadata FILE, or an option such as --no-idp-initiated")
        configuration_utils.set_saml_options(allow_sha1=allow_sha1, idp_initiated=idp_initiated)
    else:
        try:
            xml = Path(metadata_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"cannot read the IdP metadata file {metadata_file!r}: {exc}")
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
@_clean_errors
def saml_enable() -> None:
    """Enable SAML as the authentication method."""
    configuration_utils.enable_saml()
    click.echo("SAML enabled")


@saml.command("disable")
@with_appcontext
@_clean_errors
def saml_disable() -> None:
    """Disable SAML (refused while SCIM sync is enabled, or while no built-in account is an active
    Server Admin: only built-in accounts sign in without SAML)."""
    try:
        admins.require_a_builtin_admin_without_saml("turning SAML off")
    except AccountError as exc:
        _fail(exc.detail)
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


accounts_cli.register(main, saml)  # `scimgate admin ...`, `scimgate saml username-attribute`


# --- development ------------------------------------------------------------------------------


@main.group("dev")
def dev() -> None:
    """Development helpers (only with a configuration that enables the development IdP)."""


@dev.command("bootstrap")
@click.option("--months", default=1, type=int, show_default=True, help="token validity")
@with_appcontext
@_clean_errors
def dev_bootstrap(months: int) -> None:
    """Configure the development IdP, client, token and sync; print the base URL and the token."""
    app = current_app
    if not app.config.get("DEV_IDP_ENABLED"):
        _fail(
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
