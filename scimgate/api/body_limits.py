"""Request body caps per route: a 413 before the body is read, parsed or authenticated.

One global ``MAX_CONTENT_LENGTH`` let an anonymous 26 MB form POST to ``/login`` take a worker to
1.3 GB. Each route now gets the cap its real bodies need (settings in ``config/default.py``):

- ``MAX_BODY_WEB``: sign-in, sign-out, profile and admin forms, the admin API;
- ``MAX_BODY_SAML``: a SAML response posted to ``/saml/acs``;
- ``SCIM_MAX_BODY_USER`` / ``SCIM_MAX_BODY_GROUP``: writes and searches under ``/Users`` and
  ``/Groups`` (a PUT of a 100k-member group is about 6 MB; a user is kilobytes);
- ``SCIM_MAX_BODY_OTHER``: every other ``/scim/v2`` route (``/.search``, discovery, unknown paths).

The check runs as the first app-level ``before_request`` hook after the request id is set, so
before SCIM authentication (a blueprint hook), the admin API's session check and any form or
JSON parsing. A declared ``Content-Length`` above the cap is refused at once, without reading a
byte of the body; a chunked body (no ``Content-Length``) is read through a counting stream
(``CappedInput``), which stops with 413 as soon as the cap is passed. Both WSGI
servers scimgate runs under close the connection after the answer, so the unread rest is never
drained. ``MAX_CONTENT_LENGTH`` stays the ceiling above every cap.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from scimgate.api.paths import SCIM_PREFIX
from scimgate.db.request_state import current_request
from scimgate.scim.errors import PayloadTooLarge

# Route prefixes under /scim/v2 and the setting that caps their bodies.
SCIM_RESOURCE_CAPS = (("/Users", "SCIM_MAX_BODY_USER"), ("/Groups", "SCIM_MAX_BODY_GROUP"))
SCIM_SETTINGS = ("SCIM_MAX_BODY_USER", "SCIM_MAX_BODY_GROUP", "SCIM_MAX_BODY_OTHER")
SAML_ACS_PATH = "/saml/acs"
_G_KEY = "scimgate_body_cap"


@dataclass(frozen=True)
class BodyCap:
    """The largest body a route accepts and the setting that says so."""

    setting: str
    limit: int

    def describe(self) -> str:
        """A detail a client or admin can act on: the limit, in bytes, and where it is set."""
        return (
            f"The request body is larger than this endpoint accepts: at most {self.limit} bytes "
            f"({self.setting})."
        )


def _is_scim(path: str) -> bool:
    return path == SCIM_PREFIX or path.startswith(SCIM_PREFIX + "/")


def setting_for(path: str) -> str:
    """The setting that caps a body sent to ``path`` (by path, so unknown routes are capped too)."""
    if _is_scim(path):
        rest = path[len(SCIM_PREFIX) :]
        for prefix, setting in SCIM_RESOURCE_CAPS:
            if rest == prefix or rest.startswith(prefix + "/"):
                return setting
        return "SCIM_MAX_BODY_OTHER"
    if path == SAML_ACS_PATH:
        return "MAX_BODY_SAML"
    return "MAX_BODY_WEB"


def cap_for(path: str, app: Flask | None = None) -> BodyCap:
    """The cap for ``path``, never above the global ``MAX_CONTENT_LENGTH`` ceiling."""
    config = (app or current_app).config
    setting = setting_for(path)
    limit = int(config[setting])
    ceiling = config.get("MAX_CONTENT_LENGTH")
    if ceiling is not None and int(ceiling) < limit:
        return BodyCap("MAX_CONTENT_LENGTH", int(ceiling))
    return BodyCap(setting, limit)


def current_cap() -> BodyCap:
    """The cap applied to the current request (for the 413 detail of a cut-off chunked body)."""
    cap = g.get(_G_KEY)
    return cap if cap is not None else cap_for(request.path)


def too_large(req: Request) -> Exception:
    """The 413 to raise: a SCIM error body (RFC 7644 §3.12) under /scim/v2, else werkzeug's."""
    detail = current_cap().describe()
    if _is_scim(req.path):
        return PayloadTooLarge(detail)
    return RequestEntityTooLarge(detail)


class CappedInput(io.RawIOBase):
    """A streamed request body (no ``Content-Length``) that raises the route's 413 as soon as
    more than ``cap`` bytes have been read.

    Werkzeug's own limit (``request.max_content_length`` on a terminated stream) stops reading
    at the cap but hands the truncated body to the parser as if it were whole; reading one byte
    past the cap tells "too large" from "exactly the cap".
    """

    def __init__(self, stream: Any, cap: int, error: Callable[[], Exception]) -> None:
        super().__init__()
        self._stream = stream
        self._cap = cap
        self._error = error
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._cap - self._read + 1)
        data = self._stream.read(wanted) if wanted > 0 else b""
        self._read += len(data)
        if self._read > self._cap:
            raise self._error()
        buffer[: len(data)] = data
        return len(data)


def _enforce() -> None:
    """Refuse a declared oversize body now; cap a streamed one as it is read."""
    cap = cap_for(request.path)
    g.setdefault(_G_KEY, cap)
    length = request.content_length
    if length is not None:
        request.max_content_length = cap.limit
        if length > cap.limit:
            raise too_large(request)
        return
    environ = request.environ
    if environ.get("wsgi.input_terminated"):  # chunked: the server ends the stream, we count it
        current = current_request() or request
        environ["wsgi.input"] = CappedInput(environ["wsgi.input"], cap.limit, lambda: too_large(current))
        request.max_content_length = cap.limit + 1  # werkzeug's limit must not stop short of ours


def init_app(app: Flask) -> None:
    """Install the check; call it before any blueprint is registered and after scim_logging."""
    for setting in ("MAX_BODY_WEB", "MAX_BODY_SAML", *SCIM_SETTINGS):
        if int(app.config[setting]) <= 0:
            raise ValueError(f"{setting} must be a positive number of bytes")
    app.before_request(_enforce)
