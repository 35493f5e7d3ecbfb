"""The ``/login`` throttle: failures counted per address and per username in the SCIM throttle's
shared table (``scimgate.api.throttle``), under keys of their own.

It is asked before the password hash is computed, so a blocked attempt costs no argon2 (about
150 ms of CPU each) and a right password is refused too while blocked. Unknown usernames are
counted exactly like known ones (their key is a digest of the name as typed), so the throttle's
answers tell nothing about which accounts exist. A success resets nothing: an attacker who owns
an account cannot sign in to it to wipe the count of the address they guess from.
"""

from __future__ import annotations

import hashlib

from flask import current_app

from scimgate.api import throttle

_ADDRESS_PREFIX = "login:addr:"
_USERNAME_PREFIX = "login:user:"
_USERNAME_DIGEST_CHARS = throttle.KEY_MAX - len(_USERNAME_PREFIX)


def _limits(per: str) -> throttle.Limits:
    config = current_app.config
    return throttle.Limits(
        int(config[f"LOGIN_FAILURE_LIMIT_PER_{per}"]),
        int(config["LOGIN_FAILURE_WINDOW_SECONDS"]),
        int(config["LOGIN_BLOCK_SECONDS"]),
    )


def _keys(address: str, username: str) -> list[tuple[str, throttle.Limits]]:
    digest = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()
    return [
        (_ADDRESS_PREFIX + address, _limits("ADDRESS")),
        (_USERNAME_PREFIX + digest[:_USERNAME_DIGEST_CHARS], _limits("USERNAME")),
    ]


def blocked_for(address: str, username: str) -> int:
    """Seconds until a sign-in from ``address`` as ``username`` may be tried (0: now)."""
    return max(
        (throttle.retry_after(key) for key, limits in _keys(address, username) if limits.failures > 0),
        default=0,
    )


def record_failure(address: str, username: str) -> int:
    """Count a failed sign-in; return the seconds the address or the username is now blocked."""
    return max((throttle.record_failure(key, limits) for key, limits in _keys(address, username)), default=0)
