"""Confirm an IdP-initiated SAML sign-in in the browser before it takes effect (login CSRF).

An IdP-initiated response answers no request of ours, so it cannot be bound to the browser that
posts it (``scimgate.web.saml_binding``). Anyone can get a valid one for *their own* account by
opening the app from their IdP dashboard and keeping the form; a page on another site could then
auto-post it into a victim's browser and sign the victim in as the attacker, who then reads what
the victim types. Nothing in the POST tells the two apart (both are cross-site POSTs, and
``Origin`` may be ``null``), so such a sign-in is never completed by the ACS itself:

1. The ACS verifies the response (signature, audience, Recipient, Destination, validity, age,
   one-time use), then answers with a page "You are signing in as <username> — Continue" and a
   cookie holding the pending sign-in, signed with ``SECRET_KEY`` (any node can read it), with a
   random token that the page's form also carries. The cookie is ``SameSite=Strict``.
2. ``Continue`` posts the token to ``/saml/continue``. A ``SameSite=Strict`` cookie is sent only
   with a same-site request, i.e. from the confirmation page itself: a cross-site page cannot
   complete the sign-in (its POST arrives without the cookie), and the token ties the click to
   this cookie. Pages cannot be framed (``frame-ancestors 'none'``), so the click cannot be
   stolen either; the user sees which account they are about to become.

The pending sign-in lasts ``MAX_AGE_SECONDS`` and is cleared when used; the ACS does not touch
the session cookie, so a cross-site POST to it cannot sign a signed-in user out either.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Response, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "scimgate_saml_confirm"
MAX_AGE_SECONDS = 300
_SALT = "scimgate saml unsolicited sign-in"


@dataclass(frozen=True)
class PendingSignIn:
    """A verified IdP-initiated sign-in waiting for the user's confirmation."""

    username: str
    next_url: str


def _serializer() -> URLSafeTimedSerializer:
    key = current_app.secret_key
    if not key:  # scimgate.conf.secret_key always fills it; never sign with an empty key
        raise RuntimeError("SECRET_KEY is not set")
    return URLSafeTimedSerializer(key, salt=_SALT)


def _attributes(acs_url: str) -> dict[str, object]:
    """The cookie is sent to ``/saml/`` (the ACS and ``/saml/continue``) only, same-site only."""
    parts = urlsplit(acs_url)
    folder = (parts.path or "/").rsplit("/", 1)[0] + "/"
    return {"path": folder, "secure": parts.scheme == "https", "httponly": True, "samesite": "Strict"}


def hold(response: Response, username: str, next_url: str, acs_url: str) -> str:
    """Put the pending sign-in in a cookie on ``response``; return the token its form must send."""
    token = secrets.token_urlsafe(32)
    value = _serializer().dumps({"u": username, "n": next_url, "t": token})
    response.set_cookie(COOKIE_NAME, value, max_age=MAX_AGE_SECONDS, **_attributes(acs_url))
    return token


def take(cookie_value: str | None, form_token: str | None) -> PendingSignIn | None:
    """The pending sign-in when the cookie is ours, recent, and matches the form's token."""
    if not cookie_value or not form_token:
        return None
    try:
        data = _serializer().loads(cookie_value, max_age=MAX_AGE_SECONDS)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("u", "n", "t")):
        return None
    if not hmac.compare_digest(data["t"].encode("utf-8"), form_token.encode("utf-8", "replace")):
        return None
    return PendingSignIn(username=data["u"], next_url=data["n"])


def clear(response: Response, acs_url: str) -> None:
    """Remove the pending sign-in (used, refused or abandoned)."""
    response.delete_cookie(COOKIE_NAME, **_attributes(acs_url))
