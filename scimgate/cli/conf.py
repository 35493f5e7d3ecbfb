"""``scimgate conf [KEY]``: the stored SCIM/SAML configuration, secrets shown only as ``<set>``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from scimgate.cli.common import fail
from scimgate.conf import store as conf_store
from scimgate.conf.keys import BY_NAME, KEYS, KeyInfo
from scimgate.scim.safe_text import escape
from scimgate.web import timefmt


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


@click.command("conf")
@click.argument("key", required=False)
@with_appcontext
def conf(key: str | None) -> None:
    """List the SCIM/SAML configuration keys, or print one; secrets show only as <set>."""
    if key is not None:
        info = BY_NAME.get(key)
        if info is None:
            fail(f"unknown configuration key {key!r}; known keys: {', '.join(BY_NAME)}")
        click.echo(escape(_display(info)))
        return
    width = max(len(info.name) for info in KEYS)
    for info in KEYS:
        click.echo(escape(f"{info.name.ljust(width)}  {_display(info)}"))
