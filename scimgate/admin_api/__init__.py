"""The admin and user JSON API under ``/api/v1`` (session sign-in, CSRF token for changes).

Every answer is JSON. A refusal is ``{"error": "<code>", "detail": "<reason>"}``: 401
``unauthenticated`` without a valid session, 403 ``forbidden`` when the caller is not a Server
Admin (or not the user themself where that is enough), 403 ``csrf_failed`` for a change without
this session's CSRF token, and 403 with the policy's code when ``scimgate.accounts.policies`` refuses the
action, in the reference's words.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException

from scimgate.accounts.errors import AccountError
from scimgate.accounts.policies import PolicyRefusal
from scimgate.admin_api import groups, settings, users
from scimgate.admin_api.errors import ApiError, error
from scimgate.extensions import ROUTING_ERROR_RENDERERS
from scimgate.signin import session as session_auth

PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ENDPOINTS = frozenset({"admin_api.signup"})


def _authenticate() -> None:
    """Require a session for every route but sign-up, and the CSRF token for every change
    (a refusal is raised, and rendered by the blueprint's one ``ApiError`` handler)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    if session_auth.current_account() is None:
        raise ApiError(401, "unauthenticated", "sign in first (at /login or /saml/login)")
    if request.method not in SAFE_METHODS:
        token = request.headers.get(session_auth.CSRF_HEADER) or request.headers.get("X-CSRFToken")
        problem = session_auth.csrf_problem(token)
        if problem:
            raise ApiError(
                403,
                "csrf_failed",
                f"send this session's CSRF token (GET {PREFIX}/session) in the {session_auth.CSRF_HEADER} "
                f"header: {problem}",
            )


def make_blueprint() -> Blueprint:
    """Build the API blueprint with its routes, its auth check and its error handlers."""
    bp = Blueprint("admin_api", __name__, url_prefix=PREFIX)
    bp.before_request(_authenticate)
    users.register(bp)
    groups.register(bp)
    settings.register(bp)

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error(exc.status, exc.code, exc.detail)

    @bp.errorhandler(AccountError)
    def _account_error(exc: AccountError) -> Response:
        return error(exc.status, exc.code, exc.detail)

    @bp.errorhandler(PolicyRefusal)
    def _refused(exc: PolicyRefusal) -> Response:
        return error(403, exc.code, exc.detail)

    bp.register_error_handler(HTTPException, _http_error)

    return bp


def _http_error(exc: HTTPException) -> Response:
    """An HTTP error in the API's JSON: from a route, or routing (a URL under /api/v1 that names
    no route, which the blueprint's own handlers never see)."""
    code = (exc.name or "error").lower().replace(" ", "_")
    response = error(exc.code or 500, code, exc.description or exc.name)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def init_app(app: Flask) -> None:
    """Register the API on the app, and its answer to routing errors under its prefix."""
    app.register_blueprint(make_blueprint())
    app.extensions.setdefault(ROUTING_ERROR_RENDERERS, []).append((PREFIX + "/", _http_error))
