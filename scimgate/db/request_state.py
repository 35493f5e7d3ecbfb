"""The current request, its WSGI environ and its app in one lookup, for per-request hot paths.

Flask's ``request`` and ``g`` are ``LocalProxy`` objects: each attribute read goes through the
proxy's descriptor, a ``ContextVar`` lookup and a bound function (0.8 µs here), and a SCIM request
made about sixty of them. The per-request state scimgate keeps on its hot paths (the request id
and start time, the configuration snapshot, the transaction flags, the active client's hooks)
lives in the WSGI environ, reached here with one lookup of the ``ContextVar`` behind
``flask.request`` itself. That variable is Flask's own (``flask.globals._cv_request``, since
Flask 2.2); ``tests/test_request_env.py`` fails if a Flask release moves it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request
from flask import globals as flask_globals

_REQUEST_CONTEXT = flask_globals._cv_request


def current_environ() -> dict[str, Any] | None:
    """The WSGI environ of the request being handled, or None outside a request context."""
    context = _REQUEST_CONTEXT.get(None)
    return None if context is None else context.request.environ


def current_request() -> Request | None:
    """The request being handled (what ``flask.request`` stands for), or None outside one."""
    context = _REQUEST_CONTEXT.get(None)
    return None if context is None else context.request


def current_request_app() -> Flask | None:
    """The app handling the current request (``flask.current_app`` then), or None outside one."""
    context = _REQUEST_CONTEXT.get(None)
    return None if context is None else context.app
