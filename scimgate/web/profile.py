"""``/profile``: every signed-in user's own profile (display name and email).

While SCIM sync is on the IdP supplies both fields: they are shown locked, and hovering (or
focusing) them shows the reference's sentences, taken from ``scimgate.accounts.policies``: "The Display Name
is supplied using an automatic process" and "Contact your directory admin to change the email".
A form that posts them anyway is refused by the same policy check as ``PATCH /api/v1/users/ID/profile``.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for

from scimgate.accounts import policies, users
from scimgate.signin import session as session_auth
from scimgate.web.admin import csrf_refusal, register_error_pages, sign_in_redirect
from scimgate.web.pages import policy_reason


def _guard() -> Response | tuple[str, int] | None:
    account = session_auth.current_account()
    if account is None:
        return sign_in_redirect()
    return csrf_refusal()


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def make_blueprint() -> Blueprint:
    """Build the profile blueprint."""
    bp = Blueprint("profile", __name__)
    bp.before_request(_guard)
    bp.after_request(_no_store)
    bp.add_url_rule("/profile", "show", show, methods=["GET"])
    bp.add_url_rule("/profile", "save", save, methods=["POST"])
    register_error_pages(bp)
    return bp


def init_app(app: Flask) -> None:
    """Register the profile page."""
    app.register_blueprint(make_blueprint())


def show() -> tuple[str, int]:
    """The signed-in user's profile, with the fields the policies lock shown locked."""
    account = session_auth.current_account()
    state = policies.current_state()
    return (
        render_template(
            "profile.html",
            account=account,
            display_name_reason=policy_reason("change_display_name", state),
            email_reason=policy_reason("change_email", state),
            scim_enabled=state.scim_enabled,
        ),
        200,
    )


def save() -> Response:
    """Change the fields that were sent and differ, after the policy check of each."""
    account = session_auth.current_account()
    assert account is not None  # _guard
    user = account.user
    state = policies.current_state()
    display_name = request.form.get("display_name")
    email = request.form.get("email")
    if display_name is not None and display_name == (user.profile.display_name if user.profile else ""):
        display_name = None
    if email is not None and email == user.email:
        email = None
    if display_name is not None:
        policies.require("change_display_name", state)
    if email is not None:
        policies.require("change_email", state)
    if display_name is None and email is None:
        flash("Nothing changed.", "info")
    else:
        users.update_profile(user, display_name=display_name, email=email.strip() if email else email)
        flash("Profile saved.", "success")
    return redirect(url_for("profile.show"), 303)
