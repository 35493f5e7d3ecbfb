"""Security headers of every HTML page: a strict Content-Security-Policy and its friends.

Scripts and styles come only from our own origin (``/assets``); the one inline script the
application has (the development IdP's auto-submitting form) carries this response's nonce, made
with ``csp_nonce()`` in the template. Pages cannot be framed, cannot post forms elsewhere, and
send no referrer to other sites. Non-HTML answers (SCIM JSON, the API) are left untouched.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

_NONCE_KEY = "scimgate_csp_nonce"


def csp_nonce() -> str:
    """Return this response's script nonce (made on first use)."""
    nonce = g.get(_NONCE_KEY)
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        setattr(g, _NONCE_KEY, nonce)
    return nonce


def content_security_policy(nonce: str | None, *, form_action_self: bool = True) -> str:
    """The policy of one page; ``nonce`` admits the inline scripts that carry it."""
    scripts = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    directives = [
        "default-src 'none'",
        f"script-src {scripts}",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
    if form_action_self:
        directives.append("form-action 'self'")
    return "; ".join(directives)


def _add_headers(response: Response) -> Response:
    if response.mimetype != "text/html":
        return response
    # The development IdP posts the signed response to the SP's ACS, which may be another origin.
    form_self = request.blueprint != "dev_idp"
    response.headers["Content-Security-Policy"] = content_security_policy(
        g.get(_NONCE_KEY), form_action_self=form_self
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every HTML response and offer ``csp_nonce()`` to templates."""
    app.after_request(_add_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
