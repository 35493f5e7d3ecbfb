"""``scimgate plugins``: what is installed, which clients each plugin serves and which hooks it runs.

Admins use it to check that a third-party plugin was discovered through its entry point before
choosing its client with ``scimgate scim set-client``; support uses ``--json`` to read it back.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import click
from flask import Flask
from flask.cli import with_appcontext

from scimgate.plugin_host import PluginInfo, get_host


def _lines(info: PluginInfo) -> list[str]:
    clients = ", ".join(info.clients) if info.clients else "(every client)"
    hooks = ", ".join(info.hooks) if info.hooks else "(none)"
    return [f"{info.name} {info.version}", f"  clients: {clients}", f"  hooks:   {hooks}"]


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of text.")
@with_appcontext
def plugins_command(as_json: bool) -> None:
    """List each plugin with its version, the clients it serves and the hooks it implements."""
    infos = get_host().describe()
    if as_json:
        click.echo(json.dumps([asdict(i) for i in infos], indent=2))
        return
    click.echo("\n".join("\n".join(_lines(i)) for i in infos))


def init_app(app: Flask) -> None:
    """Register ``scimgate plugins`` on the app's CLI."""
    app.cli.add_command(plugins_command)
