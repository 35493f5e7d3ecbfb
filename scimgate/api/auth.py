"""Authentication and the sync switch for every /scim/v2 route (RFC 7644 §2).

Basic and Bearer are both accepted when configured. flask-httpauth parses the header and calls our
verify callbacks; we pick the scheme ourselves on its lower-cased name, because RFC 7235 §2.1 makes
scheme names case-insensitive while ``MultiAuth`` compares them case-sensitively.

A refused request gets 401 with ``WWW-Authenticate`` and a SCIM error body that says nothing about
why; the reason goes to scim-info.log with the remote address. After authentication, a disabled
sync answers 403 on every route (the data already synced stays as it is). Every refusal is
*raised* as a ``ScimError`` (``AuthenticationRequired`` for a 401); ``scimgate.api.errors``
renders it, in the one place that renders every SCIM error.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_httpauth import HTTPBasicAuth, HTTPTokenAuth

from scimgate import configuration_utils
from scimgate.api import rate_limit, throttle
from scimgate.api.hooks import active_hooks
from scimgate.conf import credentials, token_expiry
from scimgate.conf.scim import get_scim_client
from scimgate.db.request_state import RequestState, current_state
from scimgate.logs import scim_logs as scim_logging
from scimgate.scim.errors import Forbidden, ScimError, Unauthorized

REALM = "scimgate SCIM"
UNAUTHORIZED_DETAIL = "Authentication failed: valid SCIM credentials (Bearer token or Basic) are required."
SYNC_DISABLED_DETAIL = (
    "SCIM sync is disabled on this server. An administrator can enable it with "
    "`scimgate scim enable` (configuration_utils.enable_scim_user_and_group_sync())."
)


class AuthenticationRequired(Unauthorized):
    """A refused authentication: 401 with one ``WWW-Authenticate`` challenge per scheme offered
    (RFC 7235 §4.1: one header line each), and a body that says nothing about why."""

    def __init__(self, challenges: list[str]) -> None:
        super().__init__(UNAUTHORIZED_DETAIL)
        self.challenges = challenges


def _allowed_schemes() -> tuple[str, ...]:
    """The schemes the active client's plugin allows (e.g. Entra ID: Bearer only)."""
    return active_hooks().auth_schemes()


def _challenges() -> list[str]:
    """The WWW-Authenticate challenges for the schemes that are configured (Bearer if none is)."""
    allowed = _allowed_schemes()
    basic = configuration_utils.get_scim_basic_auth_info()
    token = configuration_utils.get_scim_bearer_token()
    basic_ready = bool(basic["username"] and basic["password_set"]) and "basic" in allowed
    challenges = []
    if token["configured"] or not basic_ready:
        challenges.append(f'Bearer realm="{REALM}"')
    if basic_ready:
        challenges.append(f'Basic realm="{REALM}", charset="UTF-8"')
    return challenges


def _unauthorized(reason: str, scheme: str | None) -> ScimError:
    """401 for a failed authentication, or 429 once this address has failed too often."""
    scim_logging.auth_failure(reason, scheme)
    address = request.remote_addr or "unknown"
    blocked_for = throttle.record_failure(address)
    if blocked_for:
        return _throttled(blocked_for)
    return AuthenticationRequired(_challenges())


def _throttled(seconds: int) -> ScimError:
    scim_logging.info("auth.throttled", remote=request.remote_addr, retry_after=seconds)
    return ScimError(
        f"Too many failed authentication attempts from this address; retry after {seconds} seconds.",
        status=429,
        headers={"Retry-After": str(seconds)},
    )


_basic = HTTPBasicAuth(realm=REALM)
_bearer = HTTPTokenAuth(scheme="Bearer", realm=REALM)
_SCHEMES: dict[str, HTTPBasicAuth | HTTPTokenAuth] = {"basic": _basic, "bearer": _bearer}


def _state() -> RequestState:
    """The request's state: every app is a ``ScimgateFlask``, whose requests carry one."""
    state = current_state()
    if state is None:
        raise RuntimeError("SCIM authentication outside a ScimgateFlask request")
    return state


@_basic.verify_password
def _verify_basic(username: str, password: str) -> str | None:
    result = credentials.verify_basic(username, password)
    _state().credential_problem = result.reason
    return result.principal


@_bearer.verify_token
def _verify_bearer(token: str) -> str | None:
    result = credentials.verify_token(token)
    _state().credential_problem = result.reason
    if result.principal:
        # The IdP is using a token about to lapse: say so in scim-info.log (once a day).
        token_expiry.log_if_expiring(current_app, result.principal.removeprefix("token:"))
    return result.principal


def authenticate_request() -> None:
    """Authenticate the current SCIM request, then require an enabled sync.

    Raises the 401/403/429 ``ScimError`` to send; returns when the request may proceed. Also used
    for unknown routes and wrong methods under /scim/v2, so they reveal nothing before
    authentication.
    """
    state = _state()
    if state.principal:
        return
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise _unauthorized("no credentials", None)
    scheme = header.split(None, 1)[0].lower()
    handler = _SCHEMES.get(scheme)
    if handler is None:
        raise _unauthorized(f"scheme not allowed: {scheme[:20]!r}", scheme[:20])
    if scheme not in _allowed_schemes():
        client = get_scim_client()
        raise _unauthorized(f"scheme not allowed for client {client}: {scheme}", scheme)
    parsed = handler.get_auth()
    if parsed is None:
        raise _unauthorized("malformed credentials", scheme)
    if scheme == "basic" and not credentials.basic_is_cached(parsed.username or "", parsed.password or ""):
        # The argon2 check is the expensive part of a guess: a blocked address does not get it.
        blocked_for = throttle.retry_after(request.remote_addr or "unknown")
        if blocked_for:
            raise _throttled(blocked_for)
    state.credential_problem = "malformed credentials"
    principal = handler.authenticate(parsed, None)
    if not principal:
        raise _unauthorized(state.credential_problem or "malformed credentials", scheme)
    state.principal = principal
    wait = rate_limit.check(principal)
    if wait:
        scim_logging.info("rate.limited", principal=principal, retry_after=wait)
        raise ScimError(
            f"This credential made more than {rate_limit.limit_per_minute()} requests in a minute; "
            f"retry after {wait} seconds.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    if not configuration_utils.check_if_scim_sync_is_enabled():
        scim_logging.info("sync.refused", reason="SCIM sync is disabled", principal=principal)
        raise Forbidden(SYNC_DISABLED_DETAIL)


def protect(bp: Blueprint) -> None:
    """Require valid SCIM credentials, then an enabled sync, on every route of ``bp``."""
    bp.before_request(authenticate_request)
    bp.after_request(rate_limit.add_headers)
