"""Sign-in pages: ``/login`` (built-in accounts), ``/saml/*`` (everyone else), ``/logout``.

A refused sign-in always gets a page that says why (deactivated, suspended, waiting for
approval, a built-in username, or a response that failed verification), with status 403; the
precise technical reason goes to scim-info.log only.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from scimgate import saml_sp, scim_logging, session_auth
from scimgate.accounts import settings, users
from scimgate.accounts.errors import AccountError

ACCOUNT_PAGE = "/account"

REFUSALS: dict[str, tuple[str, str]] = {
    users.Status.DEACTIVATED: (
        "Your account is deactivated",
        "Your account has been deactivated, so you cannot sign in. If this is unexpected, ask your "
        "administrator or your identity provider admin to reactivate it.",
    ),
    users.Status.SUSPENDED: (
        "Your account is suspended",
        "Your account is suspended, so you cannot sign in. If this is unexpected, ask your administrator "
        "or your identity provider admin to activate it.",
    ),
    users.Status.PENDING: (
        "Your account is waiting for approval",
        "Your account was created and is waiting for an administrator to approve it (sign-up moderation "
        "is on). You can sign in once it is approved.",
    ),
    "builtin": (
        "Use the built-in sign-in",
        "This username belongs to a built-in account, which signs in with its password on the sign-in "
        "page, not through the identity provider.",
    ),
    "invalid": (
        "Sign-in failed",
        "The sign-in response from your identity provider could not be verified (it may be expired, "
        "already used, or not meant for this application). Start the sign-in again.",
    ),
    "saml_off": (
        "SAML sign-in is not available",
        "SAML is not configured and enabled on this server; built-in accounts can sign in with a password.",
    ),
}


def refusal(kind: str, status: int = 403) -> tuple[str, int]:
    """Render the page that says why a sign-in was refused."""
    title, message = REFUSALS[kind]
    return render_template("signin/refused.html", title=title, message=message, kind=str(kind)), status


def make_blueprint() -> Blueprint:
    """Build the sign-in blueprint (one per app)."""
    bp = Blueprint("signin", __name__, template_folder="templates")
    bp.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    bp.add_url_rule("/logout", "logout", logout, methods=["POST"])
    bp.add_url_rule(ACCOUNT_PAGE, "account", account)
    bp.add_url_rule("/saml/metadata", "saml_metadata", saml_metadata)
    bp.add_url_rule("/saml/login", "saml_login", saml_login)
    bp.add_url_rule("/saml/acs", "saml_acs", saml_acs, methods=["POST"])
    return bp


def _login_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "signin/login.html",
            error=error,
            csrf_token=session_auth.csrf_token(),
            saml_ready=saml_sp.is_ready(),
            next_url=request.values.get("next", ""),
        ),
        status,
    )


def login() -> Response | tuple[str, int]:
    """Password sign-in for built-in accounts (sign-up is never offered here)."""
    if request.method == "GET":
        return _login_page()
    problem = session_auth.csrf_problem(request.form.get("csrf_token"))
    if problem:
        return _login_page(f"The form expired or was not sent by this site ({problem}); try again.", 400)
    username = request.form.get("username", "")
    user = users.check_password(username, request.form.get("password", ""))
    if user is None:
        scim_logging.info("signin.refused", method="password", userName=username, reason="bad credentials")
        return _login_page("Wrong username or password (only built-in accounts sign in here).", 401)
    account = users.view(user)
    if account.status is not users.Status.ACTIVE:
        scim_logging.info("signin.refused", method="password", userName=username, reason=account.status.value)
        return refusal(account.status)
    session_auth.sign_in(user, "password")
    scim_logging.info("signin", method="password", user_id=user.id, userName=username)
    return redirect(saml_sp.safe_next(request.form.get("next")) if request.form.get("next") else ACCOUNT_PAGE)


def logout() -> Response | tuple[str, int]:
    """End the session (local only: the IdP's own session is not ended)."""
    token = request.form.get("csrf_token") or request.headers.get(session_auth.CSRF_HEADER)
    if session_auth.csrf_problem(token):
        return "The sign-out form expired; reload the page and try again.", 400
    session_auth.sign_out()
    return redirect(url_for("signin.login"))


def account() -> Response | tuple[str, int]:
    """Show who is signed in, with which role (the landing page after sign-in)."""
    current = session_auth.current_account()
    if current is None:
        return redirect(url_for("signin.login", next=ACCOUNT_PAGE))
    return render_template("signin/account.html", account=current, csrf_token=session_auth.csrf_token()), 200


def saml_metadata() -> Response:
    """Our SP metadata, for the IdP admin (entity id, ACS URL, POST binding)."""
    if not saml_sp.is_ready():
        return Response("SAML is not configured and enabled\n", 404, mimetype="text/plain")
    return Response(saml_sp.metadata_xml(), 200, mimetype="application/samlmetadata+xml")


def saml_login() -> Response | tuple[str, int]:
    """Send the browser to the IdP with an AuthnRequest (HTTP-Redirect binding)."""
    if not saml_sp.is_ready():
        return refusal("saml_off", 404)
    return redirect(saml_sp.start_login(request.args.get("next") or ACCOUNT_PAGE))


def saml_acs() -> Response | tuple[str, int]:
    """Receive the IdP's response (HTTP-POST binding), verify it, and sign the user in."""
    if not saml_sp.is_ready():
        return refusal("saml_off", 404)
    try:
        signed = saml_sp.finish_login(request.form.get("SAMLResponse"))
    except saml_sp.SamlSignInError as exc:
        scim_logging.info("signin.refused", method="saml", reason=exc.reason)
        return refusal("invalid")
    user = users.find_by_username(signed.username)
    if user is None:
        try:
            user = users.create_saml_user(signed.username, pending=settings.current().moderation)
        except AccountError as exc:  # created by a concurrent sign-in of the same person
            user = users.find_by_username(signed.username)
            if user is None and exc.code == "invalid_username":  # e.g. a control character
                scim_logging.info(
                    "signin.refused", method="saml", userName=signed.username, reason=exc.detail
                )
                return refusal("invalid", 400)
            if user is None:
                raise
    if user.is_builtin:
        scim_logging.info(
            "signin.refused", method="saml", userName=signed.username, reason="built-in account"
        )
        return refusal("builtin")
    account = users.view(user)
    if account.status is not users.Status.ACTIVE:
        scim_logging.info(
            "signin.refused", method="saml", userName=signed.username, reason=account.status.value
        )
        return refusal(account.status)
    session_auth.sign_in(user, "saml")
    scim_logging.info(
        "signin", method="saml", user_id=user.id, userName=user.username, kind=account.kind.value
    )
    return redirect(signed.next_url)
