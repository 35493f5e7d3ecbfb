"""``scimgate admin ...``: built-in accounts (local password, sign in at /login).

``admin create`` and ``admin reactivate`` are the way back into Admin Settings from the server's
shell: a built-in account keeps the role assigned to it whatever the settings, and the IdP cannot
touch it. The password never travels in argv (``scimgate.cli.common.read_password``).
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from scimgate.accounts import users
from scimgate.cli.common import account_errors, read_password
from scimgate.scim.safe_text import escape


@click.group("admin")
def admin() -> None:
    """Built-in accounts (local password, sign in at /login)."""


@admin.command("create")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@with_appcontext
@account_errors
def create(username: str, password_stdin: bool) -> None:
    """Create a built-in account with the Server Admin role."""
    user = users.create_builtin_admin(username, read_password(password_stdin))
    click.echo(escape(f"built-in Server Admin {user.username!r} created (id {user.id}); sign in at /login"))


@admin.command("reactivate")
@click.argument("username")
@with_appcontext
@account_errors
def reactivate(username: str) -> None:
    """Make a built-in account an active Server Admin again (unsuspend, keep its password)."""
    user = users.reactivate_builtin(username)
    click.echo(
        escape(f"built-in account {user.username!r} is an active Server Admin again; sign in at /login")
    )
