"""Bind a SAML sign-in to the browser that started it (against login CSRF).

Without this, anyone holding a valid response for *their own* account (from the IdP) could make
a victim's browser post it to ``/saml/acs`` from another site and so sign the victim in as the
attacker. ``/saml/login`` therefore sets a short-lived cookie holding an HMAC of the AuthnRequest
id (keyed with ``SECRET_KEY``, which every node shares, so any node can check it), and the ACS
accepts a response only when its ``InResponseTo`` matches the cookie of the browser posting it.

The ACS is reached by a cross-site POST from the IdP, which a ``SameSite=Lax`` cookie does not
survive, so over https the cookie is ``SameSite=None; Secure``. Browsers refuse ``SameSite=None``
without ``Secure``, so over plain http (development) it is ``SameSite=Lax``: it still reaches the
ACS from an IdP on the same site (the development IdP), but not from another site.

Only responses that answer a request (``InResponseTo``) can be bound. IdP-initiated responses
have none and are refused today (pysaml2's ``allow_unsolicited`` is off); accepting them later
needs its own defence against login CSRF, as they cannot be tied to a browser this way.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from flask import Response, current_app

COOKIE_NAME = "scimgate_saml_request"
_CONTEXT = b"scimgate saml browser binding\x00"


def _digest(request_id: str) -> str:
    key = current_app.secret_key
    if not key:  # scimgate.conf.secret_key always fills it; never bind with an empty key
        raise RuntimeError("SECRET_KEY is not set")
    key_bytes = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    return hmac.new(key_bytes, _CONTEXT + request_id.encode("utf-8"), hashlib.sha256).hexdigest()


def _attributes(acs_url: str) -> dict[str, object]:
    parts = urlsplit(acs_url)
    secure = parts.scheme == "https"
    return {
        "path": parts.path or "/",
        "secure": secure,
        "httponly": True,
        "samesite": "None" if secure else "Lax",
    }


def bind(response: Response, request_id: str, acs_url: str, max_age_seconds: int) -> None:
    """Set the cookie that ties the AuthnRequest ``request_id`` to this browser."""
    response.set_cookie(COOKIE_NAME, _digest(request_id), max_age=max_age_seconds, **_attributes(acs_url))


def matches(cookie_value: str | None, request_id: str) -> bool:
    """True when the browser's cookie was set for ``request_id`` (compared in constant time)."""
    if not cookie_value or not request_id:
        return False
    return hmac.compare_digest(cookie_value.encode("utf-8", "replace"), _digest(request_id).encode("ascii"))


def clear(response: Response, acs_url: str) -> None:
    """Remove the cookie: the sign-in it was bound to is over (accepted or refused)."""
    response.delete_cookie(COOKIE_NAME, **_attributes(acs_url))
