"""Who is signed in: a signed cookie session holding only the user id and how they signed in.

The cookie is signed with ``SECRET_KEY`` (shared by every process and node), and nothing about
the user is trusted from it: every request reloads the account and refuses a session whose
account was since deactivated, suspended or deleted, so an admin's or the IdP's change applies on
the next request everywhere. CSRF tokens come from Flask-WTF and are tied to the same session.
"""

from __future__ import annotations

from flask import g, session
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf

from scimgate.accounts import users
from scimgate.extensions import db
from scimgate.models import User

_USER_KEY = "uid"
_METHOD_KEY = "auth_method"
CSRF_HEADER = "X-CSRF-Token"


def sign_in(user: User, method: str) -> None:
    """Start a fresh session for ``user`` (``method`` is ``password`` or ``saml``)."""
    session.clear()  # no value from before sign-in survives (session fixation)
    session[_USER_KEY] = user.id
    session[_METHOD_KEY] = method
    session.permanent = False


def sign_out() -> None:
    """End the session."""
    session.clear()


def current_account() -> users.AccountView | None:
    """Return the signed-in account when it may still act, else None (once per request)."""
    if "scimgate_account" in g:
        return g.scimgate_account
    account = None
    user_id = session.get(_USER_KEY)
    if isinstance(user_id, int):
        user = db.session.get(User, user_id)
        if user is not None:
            candidate = users.view(user)
            if candidate.status is users.Status.ACTIVE:
                account = candidate
    g.scimgate_account = account
    return account


def csrf_token() -> str:
    """Return the CSRF token of this session (created on first use)."""
    return generate_csrf()


def csrf_problem(token: str | None) -> str | None:
    """Return why ``token`` is not this session's CSRF token, or None when it is."""
    try:
        validate_csrf(token)
    except CSRFError as exc:
        return str(exc.description)
    except Exception as exc:  # wtforms ValidationError: missing, expired, bad signature
        return str(exc)
    return None
