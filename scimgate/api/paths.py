"""Endpoint names in any case and one trailing slash, served as the canonical path.

IdPs and peers differ: Microsoft's SCIM reference server and the python-scim peer accept
``/scim/v2/users`` and ``/Users/``, and some IdP set-ups send them. A redirect is no answer (IdPs do
not follow one on POST), so a small WSGI middleware rewrites ``PATH_INFO`` under ``/scim/v2``
before routing: the first segment (``users``, ``SERVICEPROVIDERCONFIG``...) becomes the name a route
was registered with, and one trailing slash is dropped. Nothing else changes: resource ids and
everything after the endpoint name stay as sent (ids are case-sensitive), and every link scimgate
writes is built from the canonical names. The logs and the activity view show the canonical path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask

SCIM_PREFIX = "/scim/v2"


class CanonicalScimPaths:
    """WSGI middleware mapping ``{prefix}/<name in any case>[/rest][/]`` to the canonical path."""

    def __init__(self, wsgi_app: Any, prefix: str, names: Iterable[str]) -> None:
        self.wsgi_app = wsgi_app
        self.prefix = prefix
        self.names: Mapping[str, str] = {name.lower(): name for name in names}

    def canonical(self, path: str) -> str:
        """``path`` with its endpoint name canonical and one trailing slash dropped."""
        rest = path[len(self.prefix) + 1 :]
        if rest.endswith("/"):
            rest = rest[:-1]
        head, sep, tail = rest.partition("/")
        return f"{self.prefix}/{self.names.get(head.lower(), head)}{sep}{tail}"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(self.prefix + "/"):
            environ["PATH_INFO"] = self.canonical(path)
        return self.wsgi_app(environ, start_response)


def endpoint_names(app: Flask, prefix: str) -> set[str]:
    """The first path segment of every route registered under ``prefix`` (``Users``, ``Schemas``...)."""
    names = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix + "/"):
            head = rule.rule[len(prefix) + 1 :].split("/", 1)[0]
            if head and "<" not in head:
                names.add(head)
    return names


def init_app(app: Flask, prefix: str = SCIM_PREFIX) -> None:
    """Serve the routes under ``prefix`` whatever the case of their name, with or without a final slash."""
    app.wsgi_app = CanonicalScimPaths(app.wsgi_app, prefix, endpoint_names(app, prefix))  # type: ignore[method-assign]
