"""Helpers for the audit trail tests: the events an action wrote, the registry of which test covers
which mutating route or command, and the routes and commands that exist."""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import ScriptInfo

from scimgate.extensions import db
from scimgate.logs import audit

F = TypeVar("F", bound=Callable[..., Any])

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The blueprints through which people change things: every change there must be audited.
AUDITED_BLUEPRINTS = ("admin_pages.", "admin_api.", "profile.")

# Which test covers each mutating endpoint or command ("cli:scim set-client"); filled by @covers.
COVERED: dict[str, list[str]] = {}


def covers(*targets: str) -> Callable[[F], F]:
    """Mark a test as the audit test of these endpoints / CLI commands (the meta-test checks that
    every mutating one has at least one)."""

    def mark(test: F) -> F:
        for target in targets:
            COVERED.setdefault(target, []).append(test.__name__)
        return test

    return mark


@dataclass(frozen=True)
class Event:
    """One audit row, with its changes parsed."""

    actor: str
    action: str
    target_type: str
    target_id: str | None
    target_name: str | None
    changes: dict[str, Any]
    request_id: str | None


def last_id(app: Flask) -> int:
    """The id of the newest audit event (0 when none): take it before the action under test."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(audit.AuditEvent.id))) or 0


def events_after(app: Flask, mark: int) -> list[Event]:
    """The events written after ``mark``, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(audit.AuditEvent).where(audit.AuditEvent.id > mark).order_by(audit.AuditEvent.id)
        )
        return [
            Event(
                r.actor,
                r.action,
                r.target_type,
                r.target_id,
                r.target_name,
                json.loads(r.changes),
                r.request_id,
            )
            for r in rows
        ]


def one_event_after(app: Flask, mark: int) -> Event:
    """The single event written after ``mark`` (an admin action writes exactly one)."""
    written = events_after(app, mark)
    assert len(written) == 1, written
    return written[0]


def expected_cli_actor() -> str:
    """``cli:`` and the login name of this process's real user (what ``audit.os_user`` reads)."""
    uid = os.getuid()
    if uid == 0 and os.environ.get("SUDO_USER"):
        return f"cli:{os.environ['SUDO_USER']}"
    try:
        return f"cli:{pwd.getpwuid(uid).pw_name}"
    except KeyError:
        return f"cli:uid{uid}"


def mutating_endpoints(app: Flask) -> set[str]:
    """Every endpoint of the audited blueprints that accepts POST, PUT, PATCH or DELETE."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(AUDITED_BLUEPRINTS) and (rule.methods or set()) & MUTATING
    }


def cli_commands(app: Flask, group: click.Group) -> set[str]:
    """Every leaf command of the ``scimgate`` command, as ``cli:<path>`` (Flask's own commands
    and the app's are listed from ``app``: no other app is built)."""
    found: set[str] = set()

    def walk(context: click.Context, node: click.Group, prefix: tuple[str, ...]) -> None:
        for name in node.list_commands(context):
            command = node.get_command(context, name)
            if isinstance(command, click.Group):
                walk(context, command, (*prefix, name))
            elif command is not None:
                found.add("cli:" + " ".join((*prefix, name)))

    # Flask's group pushes an app context onto the click context to look commands up; closing the
    # context pops it, so no later test runs inside it.
    with click.Context(group, obj=ScriptInfo(create_app=lambda: app)) as context:
        walk(context, group, ())
    return found
