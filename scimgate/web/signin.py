"""Sign-in pages: ``/login`` (built-in accounts), ``/saml/*`` (everyone else), ``/logout``.

A refused sign-in always gets a page that says why (deactivated, suspended, waiting for
approval, a built-in username, or a response that failed verification), with status 403; the
precise technical reason goes to scim-info.log only. ``/login`` is throttled per address and per
username before any password is checked (429 with ``Retry-After``, see
``scimgate.signin.login_throttle``). ``/logout`` is a POST with this session's CSRF token only,
so a cross-site link cannot sign anyone out; it deletes the server-side session.

An IdP-initiated SAML sign-in (from the IdP's dashboard) is verified by ``/saml/acs`` and then
confirmed by the user on a page that posts to ``/saml/continue`` (``scimgate.web.saml_unsolicited``
explains why: login CSRF).
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for

from scimgate.accounts import settings, users
from scimgate.accounts.errors import AccountError
from scimgate.logs import scim_logs as scim_logging
from scimgate.signin import local_redirect, login_throttle, saml_sp
from scimgate.signin import session as session_auth
from scimgate.web import saml_binding, saml_unsolicited

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
    "bad_username": (
        "Sign-in failed: unusable username",
        "Your identity provider sent a username this application cannot use (empty, longer than "
        f"{users.USERNAME_MAX} characters, or with spaces around it). Ask your identity provider "
        "admin to check the NameID or username attribute sent for you.",
    ),
    "lookalike": (
        "Sign-in failed: username too similar to another",
        "No account exists with exactly your username, and a new one cannot be created because it "
        "would look like an existing account (differing only in upper/lower case, character width "
        "or invisible characters). Ask your administrator.",
    ),
    "idp_initiated_off": (
        "Sign-in from the identity provider's dashboard is turned off",
        "This application accepts sign-ins that start on its own sign-in page only. Go to the "
        'sign-in page and choose "Sign in with SAML"; you are sent to your identity provider '
        "and back.",
    ),
    "unconfirmed": (
        "Sign-in not confirmed",
        "The sign-in from your identity provider could not be confirmed: the confirmation expired, "
        "was already used, or did not come from this application's own page. Open the application "
        "from your identity provider again.",
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
    bp.add_url_rule("/saml/continue", "saml_continue", saml_continue, methods=["POST"])
    return bp


def _login_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    next_url = request.values.get("next", "")
    return (
        render_template(
            "signin/login.html",
            error=error,
            csrf_token=session_auth.csrf_token(),
            saml_ready=saml_sp.is_ready(),
            next_url=local_redirect.local_target(next_url, ""),
        ),
        status,
    )


def _throttled(seconds: int) -> Response:
    """The sign-in page with a 429 that says when to try again (the form is an HTML page; there
    is no JSON sign-in endpoint)."""
    scim_logging.info("signin.throttled", method="password", remote=request.remote_addr, retry_after=seconds)
    body, status = _login_page(
        f"Too many failed sign-in attempts from this address or for this username; "
        f"try again in {seconds} seconds.",
        429,
    )
    return Response(body, status, headers={"Retry-After": str(seconds)}, mimetype="text/html")


def login() -> Response | tuple[str, int]:
    """Password sign-in for built-in accounts (sign-up is never offered here)."""
    if request.method == "GET":
        return _login_page()
    problem = session_auth.csrf_problem(request.form.get("csrf_token"))
    if problem:
        return _login_page(f"The form expired or was not sent by this site ({problem}); try again.", 400)
    username = request.form.get("username", "")
    address = request.remote_addr or "unknown"
    wait = login_throttle.blocked_for(address, username)
    if wait:  # before the password hash: a blocked guess costs no argon2, a right one is refused
        return _throttled(wait)
    user = users.check_password(username, request.form.get("password", ""))
    if user is None:
        scim_logging.info("signin.refused", method="password", userName=username, reason="bad credentials")
        wait = login_throttle.record_failure(address, username)
        if wait:
            return _throttled(wait)
        return _login_page("Wrong username or password (only built-in accounts sign in here).", 401)
    account = users.view(user)
    if account.status is not users.Status.ACTIVE:
        scim_logging.info("signin.refused", method="password", userName=username, reason=account.status.value)
        return refusal(account.status)
    session_auth.sign_in(user, "password")
    scim_logging.info("signin", method="password", user_id=user.id, userName=username)
    return redirect(local_redirect.local_target(request.form.get("next"), ACCOUNT_PAGE))


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
    """Send the browser to the IdP with an AuthnRequest (HTTP-Redirect binding), binding the
    request to this browser with a cookie (``scimgate.web.saml_binding``)."""
    if not saml_sp.is_ready():
        return refusal("saml_off", 404)
    started = saml_sp.start_login(request.args.get("next") or ACCOUNT_PAGE)
    response = redirect(started.redirect_url)
    saml_binding.bind(
        response,
        started.request_id,
        saml_sp.sp_urls().acs_url,
        int(saml_sp.OUTSTANDING_TTL.total_seconds()),
    )
    return response


def saml_acs() -> Response | tuple[str, int]:
    """Receive the IdP's response (HTTP-POST binding), verify it, and sign the user in.

    Whatever the outcome, the browser's binding cookie is cleared: its sign-in is over.
    """
    if not saml_sp.is_ready():
        return refusal("saml_off", 404)
    outcome = make_response(_saml_acs())
    saml_binding.clear(outcome, saml_sp.sp_urls().acs_url)
    return outcome


def _refuse_saml(username: str, reason: str, kind: str) -> tuple[str, int]:
    scim_logging.info(
        "signin.refused", method="saml", userName=username[: users.USERNAME_MAX + 1], reason=reason
    )
    return refusal(kind)


def _saml_acs() -> Response | tuple[str, int]:
    try:
        cookie = request.cookies.get(saml_binding.COOKIE_NAME)
        signed = saml_sp.finish_login(
            request.form.get("SAMLResponse"),
            lambda request_id: saml_binding.matches(cookie, request_id),
            relay_state=request.form.get("RelayState"),
            default_next=ACCOUNT_PAGE,
        )
    except saml_sp.SamlSignInError as exc:
        scim_logging.info("signin.refused", method="saml", reason=exc.reason)
        return refusal(exc.page)
    problem = users.username_problem(signed.username)
    if problem:
        return _refuse_saml(
            signed.username, f"unusable username {signed.username[:200]!r}: {problem}", "bad_username"
        )
    if not signed.solicited:
        return _confirm_unsolicited(signed)
    return _sign_in_saml(signed.username, signed.next_url)


def _confirm_unsolicited(signed: saml_sp.SignIn) -> Response:
    """Ask the user to confirm an IdP-initiated sign-in (nothing is created or signed in yet)."""
    scim_logging.info("signin.confirm", method="saml", userName=signed.username, initiated="idp")
    response = make_response()
    token = saml_unsolicited.hold(response, signed.username, signed.next_url, saml_sp.sp_urls().acs_url)
    response.set_data(render_template("signin/confirm.html", username=signed.username, token=token))
    response.headers["Cache-Control"] = "no-store"
    return response


def saml_continue() -> Response | tuple[str, int]:
    """Complete an IdP-initiated sign-in the user confirmed on the page ``/saml/acs`` showed."""
    if not saml_sp.is_ready():
        return refusal("saml_off", 404)
    pending = saml_unsolicited.take(
        request.cookies.get(saml_unsolicited.COOKIE_NAME), request.form.get("confirm_token")
    )
    if pending is None:
        reason = (
            "IdP-initiated sign-in not confirmed: no, an expired or another browser's confirmation "
            "cookie (a cross-site post, or the confirmation page is older than "
            f"{saml_unsolicited.MAX_AGE_SECONDS} s)"
        )
        outcome = make_response(_refuse_saml("", reason, "unconfirmed"))
    elif not saml_sp.idp_initiated_allowed():  # turned off while the page was open
        reason = "IdP-initiated sign-in is turned off (`scimgate saml configure --idp-initiated`)"
        outcome = make_response(_refuse_saml(pending.username, reason, "idp_initiated_off"))
    else:
        outcome = make_response(_sign_in_saml(pending.username, pending.next_url))
    saml_unsolicited.clear(outcome, saml_sp.sp_urls().acs_url)
    return outcome


def _sign_in_saml(username: str, next_url: str) -> Response | tuple[str, int]:
    """Sign in (creating the account on first sign-in) the user a verified assertion names."""
    user = users.find_by_username(username)
    if user is None:
        try:
            user = users.create_saml_user(username, pending=settings.current().moderation)
        except AccountError as exc:
            if exc.code == "lookalike":
                return _refuse_saml(username, exc.detail, "lookalike")
            user = users.find_by_username(username)  # created by a concurrent sign-in
            if user is None:
                raise
    if user.is_builtin:
        scim_logging.info("signin.refused", method="saml", userName=username, reason="built-in account")
        return refusal("builtin")
    account = users.view(user)
    if account.status is not users.Status.ACTIVE:
        scim_logging.info("signin.refused", method="saml", userName=username, reason=account.status.value)
        return refusal(account.status)
    session_auth.sign_in(user, "saml")
    scim_logging.info(
        "signin", method="saml", user_id=user.id, userName=user.username, kind=account.kind.value
    )
    return redirect(next_url)
