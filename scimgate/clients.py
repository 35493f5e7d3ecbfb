"""The SCIM clients (identity providers) scimgate knows, kept in exactly one place.

The built-in names are the reference's. A plugin system adds more per app with
``register_client(app, name)``; everything that validates a client name asks ``known_clients()``.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, has_app_context

BUILTIN_CLIENTS: tuple[str, ...] = (
    "okta",
    "pingfederate",
    "one_identity",
    "azure_active_directory",
    "sailpoint",
)
_EXTENSION_KEY = "scimgate_extra_clients"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def register_client(app: Flask, name: str) -> None:
    """Let ``app`` accept one more client name (called by plugins at start-up)."""
    if not _NAME_RE.match(name):
        raise ValueError(f"client name {name!r} must be lower-case letters, digits and '_' (max 64)")
    extra: list[str] = app.extensions.setdefault(_EXTENSION_KEY, [])
    if name not in BUILTIN_CLIENTS and name not in extra:
        extra.append(name)


def known_clients() -> tuple[str, ...]:
    """Return the built-in clients followed by those registered on the current app."""
    extra: list[str] = current_app.extensions.get(_EXTENSION_KEY, []) if has_app_context() else []
    return BUILTIN_CLIENTS + tuple(extra)
