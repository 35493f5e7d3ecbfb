"""An optional per-credential request rate limit (``SCIM_RATE_LIMIT_PER_MINUTE``, off by default).

Fixed one-minute windows counted in the database with one atomic upsert per request, so every
worker and node shares the count. Off (0) it costs nothing. Advertised in /ServiceProviderConfig.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Response, current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from scimgate.db import transactions as database
from scimgate.db.request_state import current_state
from scimgate.extensions import db

WINDOW_SECONDS = 60


class RateWindow(db.Model):
    """Requests made with one credential in one minute."""

    __tablename__ = "rate_window"

    principal: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    window: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer, default=0)


def limit_per_minute() -> int:
    """The configured limit; 0 means off."""
    return int(current_app.config.get("SCIM_RATE_LIMIT_PER_MINUTE") or 0)


def _increment(principal: str, window: int) -> int:
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    statement = (
        insert(RateWindow)
        .values(principal=principal, window=window, count=1)
        .on_conflict_do_update(
            index_elements=[RateWindow.principal, RateWindow.window], set_={"count": RateWindow.count + 1}
        )
        .returning(RateWindow.count)
    )
    count = db.session.execute(statement).scalar_one()
    if count == 1:  # first request of a new window: forget old windows
        db.session.execute(sa.delete(RateWindow).where(RateWindow.window < window - 1))
    db.session.commit()
    return count


def check(principal: str) -> int:
    """Count a request; return 0 when allowed, else the seconds to wait (for Retry-After)."""
    limit = limit_per_minute()
    if limit <= 0:
        return 0
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    with database.write_transaction():
        count = _increment(principal[:128], window)
    reset = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
    state = current_state()
    if state is not None:
        state.rate = (limit, max(0, limit - count), reset)
    return 0 if count <= limit else reset


def add_headers(response: Response) -> Response:
    """Tell clients their budget (SailPoint and others honour ``X-RateLimit-*``)."""
    state = current_state()
    rate = state.rate if state is not None else None
    if rate is not None:
        limit, remaining, reset = rate
        response.headers["X-RateLimit-Limit"] = str(limit)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(reset)
    return response
