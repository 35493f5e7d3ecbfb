"""The one place that turns errors into RFC 7644 §3.12 bodies.

Routing errors (404 unknown endpoint, 405 wrong method, 413 body too large) under ``/scim/v2``
get the SCIM error body too, and an unexpected exception is logged with its traceback to
scim-error.log and answered with a SCIM 500 body that reveals nothing.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from scimgate.api import body_limits, db_faults
from scimgate.api.auth import AuthenticationRequired, authenticate_request
from scimgate.api.paths import SCIM_PREFIX
from scimgate.api.responses import scim_json
from scimgate.extensions import ROUTING_ERROR_RENDERERS
from scimgate.logs import scim_logs as scim_logging
from scimgate.scim.errors import ScimError

_HTTP_DETAILS = {
    404: "No SCIM endpoint at {path}.",
    405: "{method} is not allowed on {path}.",
}


def _is_scim_request() -> bool:
    return request.path == SCIM_PREFIX or request.path.startswith(SCIM_PREFIX + "/")


def render_scim_error(error: ScimError) -> Response:
    """Render a ScimError with its status, ``scimType``, ``detail`` and headers; its reason goes
    to scim-debug.log (every refusal passes here: a 401 of the auth layer as well)."""
    scim_logging.refused(error.status, error.detail, error.scim_type, error.attribute)
    response = scim_json(error.to_body(), error.status, error.headers)
    if isinstance(error, AuthenticationRequired):
        for challenge in error.challenges:  # one header line per scheme (RFC 7235 §4.1)
            response.headers.add("WWW-Authenticate", challenge)
    return response


def init_app(app: Flask) -> None:
    """Register the handlers on the app (blueprint handlers never see routing errors)."""

    @app.errorhandler(ScimError)
    def _scim_error(error: ScimError) -> Response:
        return render_scim_error(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | HTTPException:
        if not _is_scim_request():
            renderers = current_app.extensions.get(ROUTING_ERROR_RENDERERS, ())
            for prefix, render in sorted(renderers, key=lambda pair: -len(pair[0])):  # most specific
                if request.path.startswith(prefix):
                    return render(error)
            return error
        if error.code in (404, 405):
            try:  # routing errors reveal nothing before authentication
                authenticate_request()
            except ScimError as refused:  # a handler's own exception would not be handled again
                return render_scim_error(refused)
        status = error.code or 500
        template = _HTTP_DETAILS.get(status)
        if status == 413:  # a chunked body cut off at the route's cap (body_limits)
            detail = body_limits.current_cap().describe()
        elif template:
            detail = template.format(path=request.path, method=request.method)
        else:
            detail = error.description
        response = render_scim_error(ScimError(detail or error.name, status=status))
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        fault = db_faults.classify(error)
        if fault is not None:  # the database's state, not a bug: 503/507 everywhere, never 500
            db_faults.log(fault, error)
            return render_scim_error(fault.scim_error()) if _is_scim_request() else db_faults.respond(fault)
        scim_logging.log_unexpected(error)
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return error.get_response()
        detail = "An unexpected error occurred; it was logged with this response's X-Request-Id."
        return render_scim_error(ScimError(detail, status=500))
