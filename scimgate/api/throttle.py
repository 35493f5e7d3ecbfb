"""Throttling of authentication failures per key, shared by every process.

State lives in the database (``auth_throttle``), so several workers and nodes enforce one limit.
SCIM keys its failures by remote address with the ``AUTH_*`` limits; ``/login`` keys them by
address and by username with its own limits (``scimgate.signin.login_throttle``). It is read
only when a request fails to authenticate or needs the slow password hash: a valid Bearer token,
or a Basic password verified recently, is never throttled by others' failures and costs no
throttle query.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from scimgate.db import transactions as database
from scimgate.extensions import db
from scimgate.models import utcnow

KEY_MAX = 64


class AuthThrottle(db.Model):
    """Failed authentications from one address in the current window."""

    __tablename__ = "auth_throttle"

    address: Mapped[str] = mapped_column(sa.String(KEY_MAX), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


@dataclass(frozen=True)
class Limits:
    """After ``failures`` failures within ``window_seconds``, block for ``block_seconds`` (0 = off)."""

    failures: int
    window_seconds: int
    block_seconds: int


def scim_limits() -> Limits:
    """The SCIM authentication limits (``AUTH_*``)."""
    config = current_app.config
    return Limits(
        config["AUTH_FAILURE_LIMIT"],
        config["AUTH_FAILURE_WINDOW_SECONDS"],
        config["AUTH_BLOCK_SECONDS"],
    )


def retry_after(address: str) -> int:
    """Seconds until ``address`` (or another key) may try again (0 when it is not blocked)."""
    row = db.session.get(AuthThrottle, address[:KEY_MAX])
    db.session.rollback()  # end the read; callers may write afterwards
    if row is None or row.blocked_until is None:
        return 0
    remaining = (row.blocked_until - utcnow()).total_seconds()
    return max(0, math.ceil(remaining))


def record_failure(address: str, limits: Limits | None = None) -> int:
    """Count one failure from ``address`` (or another key); return the seconds it is now blocked
    for (0 if not). ``limits`` default to the SCIM ones."""
    limits = limits or scim_limits()
    if limits.failures <= 0:
        return 0
    key = address[:KEY_MAX]
    with database.write_transaction():
        return _count_failure(key, limits.failures, limits.window_seconds, limits.block_seconds)


def _count_failure(key: str, limit: int, window: int, block: int) -> int:
    for _attempt in range(3):
        now = utcnow()
        try:
            row = db.session.execute(
                sa.select(AuthThrottle).where(AuthThrottle.address == key).with_for_update()
            ).scalar_one_or_none()
            if row is None:
                _forget_stale(now, window)
                row = AuthThrottle(address=key, failures=0, window_start=now)
                db.session.add(row)
            if (now - row.window_start).total_seconds() > window:
                row.failures, row.window_start = 0, now
                if row.blocked_until is not None and row.blocked_until <= now:
                    row.blocked_until = None
            row.failures += 1
            if row.failures >= limit:
                row.blocked_until = now + dt.timedelta(seconds=block)
            blocked_until = row.blocked_until
            db.session.commit()
        except IntegrityError:  # two processes inserted the first failure at once: count again
            db.session.rollback()
            continue
        if blocked_until is None or blocked_until <= now:
            return 0
        return max(1, math.ceil((blocked_until - now).total_seconds()))
    return 0


def _forget_stale(now: dt.datetime, window: int) -> None:
    """Delete the rows of addresses whose window ended and that are not blocked, before a new
    address gets its row: the table holds the addresses seen within one window, not every
    address that ever failed (an attacker has as many as an IPv6 prefix gives)."""
    db.session.execute(
        sa.delete(AuthThrottle).where(
            AuthThrottle.window_start < now - dt.timedelta(seconds=window),
            sa.or_(AuthThrottle.blocked_until.is_(None), AuthThrottle.blocked_until <= now),
        )
    )


def forget(address: str) -> None:
    """Clear an address's failures (used by tests and by an admin unblocking a client)."""
    db.session.execute(sa.delete(AuthThrottle).where(AuthThrottle.address == address[:KEY_MAX]))
    db.session.commit()
