"""What every ``scimgate`` command shares: one-line errors with exit status 1, and the password prompt.

Admins run these commands by hand and from set-up scripts, so a refused or invalid input prints one
clear line to stderr (``Error: ...``) and exits 1, never a traceback. Secrets never travel in argv:
a password comes from a prompt or the first line of stdin.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
from flask.cli import FlaskGroup

from scimgate.accounts.errors import AccountError
from scimgate.api import db_faults
from scimgate.configuration_utils import ScimConfigurationError
from scimgate.scim.safe_text import escape

P = ParamSpec("P")
R = TypeVar("R")


class Commands(FlaskGroup):
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


def fail(message: str) -> NoReturn:
    """End the command with ``Error: message`` on stderr and exit status 1."""
    raise click.ClickException(message)


def clean_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a refused configuration (or an unreadable file) into one line on stderr and exit 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (ScimConfigurationError, OSError) as exc:
            raise click.ClickException(escape(exc)) from None

    return wrapper


def account_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a refused account change (lock-out, bad username) into one escaped line and exit 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except AccountError as exc:
            raise click.ClickException(escape(exc.detail)) from None

    return wrapper


def read_password(from_stdin: bool) -> str:
    """The password from the first line of stdin (set-up scripts), else asked twice at a prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("no password on stdin (expected one line)")
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)
