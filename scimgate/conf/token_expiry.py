"""When the SCIM bearer token expires, and the one warning every surface gives about it.

From ``WARN_DAYS`` days before its expiry the token is "expiring": ``scimgate scim status``, the
Authentication page's status row, a banner on every admin page and scim-info.log (a
``token.expiring`` line) all say so with the date, because an IdP whose token lapses stops
provisioning silently. An expired token reads "expired on <date>". The log line is written when
the IdP authenticates with an expiring token, at most once per UTC day per process and token, so
a busy IdP does not flood the log.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from flask import Flask

from scimgate.conf import keys as K
from scimgate.conf import store as conf_store
from scimgate.logs import scim_logs as scim_logging
from scimgate.models import utcnow

WARN_DAYS = 14
_LOGGED_KEY = "scimgate_token_expiring_logged"
_logged_lock = threading.Lock()


@dataclass(frozen=True)
class TokenExpiry:
    """The current token's expiry as the warnings need it (``expires`` naive UTC)."""

    expires: dt.datetime
    now: dt.datetime

    @property
    def expired(self) -> bool:
        return self.expires <= self.now

    @property
    def expiring(self) -> bool:
        """Not expired yet, but within ``WARN_DAYS`` days of it."""
        return not self.expired and self.expires - self.now <= dt.timedelta(days=WARN_DAYS)

    @property
    def days_left(self) -> int:
        """Whole days left, rounded up (``1`` on the last day)."""
        left = self.expires - self.now
        return max(0, -(-left // dt.timedelta(days=1)))


def _people(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def current(now: dt.datetime | None = None) -> TokenExpiry | None:
    """The configured token's expiry, or None when no token is set."""
    if conf_store.get_str(K.TOKEN_HASH) is None:
        return None
    expires = conf_store.get_datetime(K.TOKEN_EXPIRES)
    return None if expires is None else TokenExpiry(expires, now or utcnow())


def describe(expiry: TokenExpiry) -> str:
    """``valid until <date>``, ``expires on <date> (in N days)`` or ``expired on <date>``."""
    when = _people(expiry.expires)
    if expiry.expired:
        return f"expired on {when}"
    if expiry.expiring:
        days = expiry.days_left
        return f"expires on {when} (in {days} day{'s' if days != 1 else ''})"
    return f"valid until {when}"


def warning(now: dt.datetime | None = None) -> str | None:
    """The sentence for admins when the token is expiring or expired, else None (never a secret)."""
    expiry = current(now)
    if expiry is None or not (expiry.expired or expiry.expiring):
        return None
    if expiry.expired:
        return (
            f"The SCIM bearer token expired on {_people(expiry.expires)}: the identity provider's "
            "requests are refused. Generate a new token and enter it in the identity provider."
        )
    return (
        f"The SCIM bearer token {describe(expiry)}. Generate a new token and enter it in the "
        "identity provider before then."
    )


def log_if_expiring(app: Flask, fingerprint: str | None, now: dt.datetime | None = None) -> bool:
    """Write ``token.expiring`` to scim-info.log when the token is expiring, at most once per UTC
    day per process and token; True when a line was written."""
    expiry = current(now)
    if expiry is None or not expiry.expiring:
        return False
    mark = (fingerprint, expiry.now.date())
    with _logged_lock:
        if app.extensions.get(_LOGGED_KEY) == mark:
            return False
        app.extensions[_LOGGED_KEY] = mark
    scim_logging.info(
        "token.expiring",
        fingerprint=fingerprint,
        expires=_people(expiry.expires),
        days_left=expiry.days_left,
    )
    return True
