"""Admin Settings pages under ``/admin``: Authentication (SCIM token and status), SCIM activity,
Users, Groups, Settings.

Every page refuses anonymous visitors (redirect to ``/login``) and signed-in users without the
Server Admin role (403 page); every form carries this session's CSRF token (Flask-WTF) and a
form without it is refused (400) before anything runs. Actions ask ``scimgate.accounts.policies`` and call
the same account functions as the JSON API; a refusal is shown on a 403 page in the policy's words.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from scimgate.accounts.errors import AccountError
from scimgate.accounts.policies import PolicyRefusal
from scimgate.admin_api.access import ADMIN_REQUIRED, is_admin
from scimgate.conf import token_expiry
from scimgate.signin import session as session_auth
from scimgate.web.admin import activity, authentication, export, groups, settings, user_detail, users
from scimgate.web.pages import error_page, http_error_page

PREFIX = "/admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def sign_in_redirect() -> Response:
    """Send an anonymous visitor to the sign-in page, coming back here afterwards."""
    target = request.full_path.rstrip("?") if request.method in SAFE_METHODS else request.path
    return redirect(url_for("signin.login", next=target), 303)


def csrf_refusal() -> tuple[str, int] | None:
    """Refuse a change whose form lacks this session's CSRF token (400 page), else None."""
    if request.method in SAFE_METHODS:
        return None
    problem = session_auth.csrf_problem(request.form.get("csrf_token"))
    if problem:
        return error_page(
            400,
            "The form expired",
            f"The form expired or was not sent by this site ({problem}). Reload the page and try again.",
        )
    return None


def _guard() -> Response | tuple[str, int] | None:
    account = session_auth.current_account()
    if account is None:
        return sign_in_redirect()
    if not is_admin(account):
        return error_page(403, "Server Admins only", f"This page is for Server Admins: {ADMIN_REQUIRED}.")
    return csrf_refusal()


def _token_banner() -> dict[str, str | None]:
    """Every admin page warns from ``token_expiry.WARN_DAYS`` days before the token expires (only
    a Server Admin's: the refusal pages this blueprint shows others say nothing about it)."""
    account = session_auth.current_account()
    shown = account is not None and is_admin(account)
    return {"token_warning": token_expiry.warning() if shown else None}


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def register_error_pages(bp: Blueprint) -> None:
    """Render refusals of a page blueprint as pages that say why."""

    @bp.errorhandler(PolicyRefusal)
    def _refused(exc: PolicyRefusal) -> tuple[str, int]:
        return error_page(403, "Not allowed", exc.detail[:1].upper() + exc.detail[1:])

    @bp.errorhandler(AccountError)
    def _invalid(exc: AccountError) -> tuple[str, int]:
        return error_page(exc.status, "Not done", exc.detail[:1].upper() + exc.detail[1:])

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[str, int]:
        return http_error_page(exc)


def make_blueprint() -> Blueprint:
    """Build the admin pages blueprint."""
    bp = Blueprint("admin_pages", __name__, url_prefix=PREFIX)
    bp.before_request(_guard)
    bp.after_request(_no_store)
    bp.context_processor(_token_banner)
    bp.add_url_rule("/", "index", lambda: redirect(url_for("admin_pages.authentication")))
    authentication.register(bp)
    activity.register(bp)
    users.register(bp)
    user_detail.register(bp)
    groups.register(bp)
    settings.register(bp)
    export.register(bp)
    register_error_pages(bp)
    return bp


def init_app(app: Flask) -> None:
    """Register the admin pages."""
    app.register_blueprint(make_blueprint())
