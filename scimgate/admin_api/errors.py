"""The one error shape of the admin JSON API: ``{"error": "<code>", "detail": "<reason>"}``.

Routes and the session check raise ``ApiError``; the blueprint's handler renders it with ``error``.
Kept apart from the package so the route modules can raise it while the package imports them.
"""

from __future__ import annotations

from flask import Response, jsonify


class ApiError(Exception):
    """An API refusal with its status, code and detail."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def error(status: int, code: str, detail: str) -> Response:
    """Render the one error shape of this API."""
    response = jsonify({"error": code, "detail": detail})
    response.status_code = status
    return response
