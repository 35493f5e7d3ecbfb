"""A NUL character in a browser route's query string or form is a 400, before any route reads it.

PostgreSQL cannot hold NUL in text: a NUL in a value that reaches a query (the username typed at
``/login``, the search box of an admin page) made the driver fail and the request answer 500,
for anyone, signed in or not. No real form field or query parameter holds one, so the request is
refused as a whole here, the same on SQLite and PostgreSQL. The SCIM API has its own readers
(``scimgate.scim.json_input``, the filter parser, ``services.common``) and the JSON API reads its
body with the SCIM reader, so only query strings and form fields are checked, outside ``/scim``.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, jsonify, request
from werkzeug.datastructures import MultiDict

from scimgate.web.pages import error_page
from scimgate.web.session_interface import is_sessionless

DETAIL = "The request holds a NUL character (U+0000) in {where}, which no field accepts."


def _holds_nul(values: MultiDict[str, str]) -> bool:
    pairs: Iterable[tuple[str, str]] = values.items(multi=True)
    return any("\x00" in key or "\x00" in value for key, value in pairs)


def refuse_nul() -> Response | tuple[str, int] | None:
    """Answer 400 (JSON under ``/api/``, a page elsewhere) when a NUL came in; else go on."""
    if is_sessionless(request.path):
        return None
    where = None
    if _holds_nul(request.args):
        where = "the query string"
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and _holds_nul(
        request.form
    ):
        where = "a form field"
    if where is None:
        return None
    detail = DETAIL.format(where=where)
    if request.path.startswith("/api/"):
        response = jsonify({"error": "invalid_input", "detail": detail})
        response.status_code = 400
        return response
    return error_page(400, "Bad request", detail)


def init_app(app: Flask) -> None:
    """Check every request (after the body caps: a form is read only once its size is allowed)."""
    app.before_request(refuse_nul)
