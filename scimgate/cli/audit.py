"""``scimgate audit``: print the audit trail; ``scimgate audit prune``: apply the retention."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask import Flask
from flask.cli import with_appcontext

from scimgate.logs import audit
from scimgate.scim.safe_text import escape, json_escape
from scimgate.web import timefmt


def _since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or time, e.g. 2026-11-29T10:00"
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


@click.group("audit", invoke_without_command=True)
@click.option("--since", help="only events at or after this ISO 8601 time (UTC unless an offset is given)")
@click.option("--user", "target", help="only events about this user or group (SCIM id or name)")
@click.option("--limit", default=1000, show_default=True, help="at most this many events")
@click.pass_context
@with_appcontext
def audit_command(ctx: click.Context, since: str | None, target: str | None, limit: int) -> None:
    """Print who changed what and when, oldest first, one event per line."""
    if ctx.invoked_subcommand is not None:
        return
    for event in audit.query(_since(since), target, limit):
        changes = json_escape(json.dumps(json.loads(event.changes), ensure_ascii=False, sort_keys=True))
        head = (
            f"{timefmt.for_people(event.at)} {event.actor} {event.action} {event.target_type}"
            f" {event.target_id or '-'} {event.target_name or '-'} request={event.request_id or '-'}"
        )
        # Names print escaped (scimgate.scim.safe_text): a stored CR/LF cannot forge a line and an
        # ESC sequence cannot reach the terminal; the changes stay valid JSON.
        click.echo(f"{escape(head)} {changes}")


@audit_command.command("prune")
@with_appcontext
def prune_command() -> None:
    """Delete events older than AUDIT_RETENTION_DAYS."""
    click.echo(f"pruned {audit.prune()} audit events")


def init_app(app: Flask) -> None:
    """Register ``scimgate audit`` on the app's CLI."""
    app.cli.add_command(audit_command)
