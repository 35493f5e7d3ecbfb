"""Who is signed in: a signed cookie holding only a server-side session id (see
``scimgate.signin.session_store``).

The cookie is signed with ``SECRET_KEY`` (shared by every process and node), and nothing about
the user is trusted from it: every request looks the session up in the database (sign-out,
lifetime and idle timeout end it there, for every node) and reloads the account, refusing a
session whose account was since deactivated, suspended or deleted (such a session is deleted,
so a later reactivation does not revive it), so an admin's or the IdP's change applies on the
next request everywhere; a role change too. CSRF tokens come from Flask-WTF and are tied to the
same cookie session, which sign-in and sign-out clear.
"""

from __future__ import annotations

from flask import g, session
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf

from scimgate.accounts import users
from scimgate.accounts.roles import Role
from scimgate.extensions import db
from scimgate.logs import audit
from scimgate.models import User
from scimgate.signin import session_store

_SESSION_KEY = "sid"
CSRF_HEADER = "X-CSRF-Token"


def sign_in(user: User, method: str) -> None:
    """Start a fresh session for ``user`` (``method`` is ``password`` or ``saml``).

    A session this browser already held is ended first, not just forgotten by the cookie: a copy
    of the old cookie (another person's, on a shared computer) must not outlive the new sign-in.
    """
    previous = session.get(_SESSION_KEY)
    if isinstance(previous, str):
        session_store.end(previous)
    session.clear()  # no value from before sign-in survives (session fixation)
    session[_SESSION_KEY] = session_store.start(user.id, method)
    session.permanent = False  # the cookie ends with the browser; the server ends it sooner
    g.pop("scimgate_account", None)
    audit.signed_in(None, admin=False)  # named again when the new session is next resolved


def sign_out() -> None:
    """End the session here and on every node: its row is deleted, the cookie emptied."""
    token = session.get(_SESSION_KEY)
    if isinstance(token, str):
        session_store.end(token)
    session.clear()
    g.scimgate_account = None
    audit.signed_in(None, admin=False)


def current_account() -> users.AccountView | None:
    """Return the signed-in account when it may still act, else None (once per request)."""
    if "scimgate_account" in g:
        return g.scimgate_account
    account = None
    token = session.get(_SESSION_KEY)
    user_id = session_store.user_of(token) if isinstance(token, str) else None
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is not None:
            candidate = users.view(user)
            if candidate.status is users.Status.ACTIVE:
                account = candidate
            else:
                session_store.end_all_of(user_id)
    g.scimgate_account = account
    # The audit trail's actor is named here, where the session is resolved, for every route.
    if account is None:
        audit.signed_in(None, admin=False)
    else:
        audit.signed_in(account.user.username, admin=account.role is Role.SERVER_ADMIN)
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
