"""``scimgate admin ...`` (built-in accounts) and ``scimgate saml username-attribute``.

``admin create`` and ``admin reactivate`` are the way back into Admin Settings from the server's
shell: a built-in account keeps the role assigned to it whatever the settings, and the IdP cannot
touch it.

The password never travels in argv: it is asked twice at a prompt, or read from the first line of
stdin with ``--password-stdin`` (for set-up scripts and secret stores).
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from scimgate.accounts import users
from scimgate.accounts.errors import AccountError
from scimgate.scim.safe_text import escape
from scimgate.signin import saml_sp


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise click.ClickException("no password on stdin (expected one line)")
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group("admin")
def admin() -> None:
    """Built-in accounts (local password, sign in at /login)."""


@admin.command("create")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@with_appcontext
def create(username: str, password_stdin: bool) -> None:
    """Create a built-in account with the Server Admin role."""
    password = _read_password(password_stdin)
    try:
        user = users.create_builtin_admin(username, password)
    except AccountError as exc:
        raise click.ClickException(escape(exc.detail)) from None
    click.echo(escape(f"built-in Server Admin {user.username!r} created (id {user.id}); sign in at /login"))


@admin.command("reactivate")
@click.argument("username")
@with_appcontext
def reactivate(username: str) -> None:
    """Make a built-in account an active Server Admin again (unsuspend, keep its password)."""
    try:
        user = users.reactivate_builtin(username)
    except AccountError as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"built-in account {user.username!r} is an active Server Admin again; sign in at /login")


@click.command("username-attribute")
@click.argument("attribute", required=False)
@click.option("--nameid", is_flag=True, help="take the username from the NameID (the default)")
@with_appcontext
def username_attribute(attribute: str | None, nameid: bool) -> None:
    """Choose where SAML sign-in reads the username: the NameID, or an assertion attribute."""
    if nameid == bool(attribute):
        raise click.ClickException("give either an ATTRIBUTE name or --nameid")
    try:
        saml_sp.set_username_attribute(None if nameid else attribute)
    except ValueError as exc:
        raise click.ClickException(escape(exc)) from None
    click.echo(
        escape("usernames come from the NameID" if nameid else f"usernames come from attribute {attribute!r}")
    )


def register(main: click.Group, saml: click.Group) -> None:
    """Attach the commands to the ``scimgate`` command and its ``saml`` group."""
    main.add_command(admin)
    saml.add_command(username_attribute)
