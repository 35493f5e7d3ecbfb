"""Server-side sign-in sessions: one row per signed-in browser, in the shared database.

The signed cookie holds only a random session id; the row behind it (stored by the id's SHA-256,
so a database read gives no usable cookie) says whose session it is and since when. Sign-out
deletes the row, so the exact old cookie stops working on every process and node at once.
Lifetime (from sign-in) and idle timeout (from the last request) are checked here against the
row's times, whatever the cookie claims. ``last_seen`` is written at most once a minute per
session (or every quarter of the idle timeout, if shorter), so reading pages costs no write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column

from scimgate.db import transactions as database
from scimgate.extensions import db
from scimgate.models import utcnow

TOUCH_SECONDS = 60
METHOD_MAX = 16


class WebSession(db.Model):
    """One signed-in browser."""

    __tablename__ = "web_session"

    id_digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(sa.String(METHOD_MAX))
    created: Mapped[dt.datetime] = mapped_column(sa.DateTime, index=True)
    last_seen: Mapped[dt.datetime] = mapped_column(sa.DateTime)


def now() -> dt.datetime:
    """The sessions' clock: UTC, shifted by ``SESSION_CLOCK_OFFSET_SECONDS`` in a testing app only
    (so tests reach the limits without sleeping; production ignores the setting)."""
    offset = current_app.config.get("SESSION_CLOCK_OFFSET_SECONDS", 0) if current_app.testing else 0
    return utcnow() + dt.timedelta(seconds=int(offset or 0))


def lifetime() -> dt.timedelta:
    """How long a session lasts from sign-in, however active."""
    return dt.timedelta(seconds=int(current_app.config["SESSION_LIFETIME_SECONDS"]))


def idle_timeout() -> dt.timedelta:
    """How long a session lasts without a request."""
    return dt.timedelta(seconds=int(current_app.config["SESSION_IDLE_TIMEOUT_SECONDS"]))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _expired(row: WebSession, at: dt.datetime) -> bool:
    return at >= row.created + lifetime() or at >= row.last_seen + idle_timeout()


def start(user_id: int, method: str) -> str:
    """Record a new session for ``user_id``; return its id for the cookie (commits)."""
    at = now()
    token = secrets.token_urlsafe(32)
    db.session.execute(
        sa.delete(WebSession).where(
            sa.or_(WebSession.created <= at - lifetime(), WebSession.last_seen <= at - idle_timeout())
        )
    )
    db.session.add(
        WebSession(
            id_digest=_digest(token), user_id=user_id, method=method[:METHOD_MAX], created=at, last_seen=at
        )
    )
    db.session.commit()
    return token


def user_of(token: str) -> int | None:
    """The user id of a live session, else None (an expired session's row is deleted)."""
    digest = _digest(token)
    row = db.session.get(WebSession, digest)
    if row is None:
        return None
    at = now()
    if _expired(row, at):
        end(token)
        return None
    touch_every = min(dt.timedelta(seconds=TOUCH_SECONDS), idle_timeout() / 4)
    user_id = row.user_id
    if at - row.last_seen >= touch_every:
        _touch(digest, at)
    return user_id


def _touch(digest: str, at: dt.datetime) -> None:
    """Move ``last_seen`` forward (best effort: a concurrent request of the same browser may win)."""
    try:
        with database.write_transaction():
            db.session.execute(
                sa.update(WebSession)
                .where(WebSession.id_digest == digest, WebSession.last_seen < at)
                .values(last_seen=at)
            )
            db.session.commit()
    except DBAPIError:  # a serialization conflict with the same browser's other request
        db.session.rollback()


def end(token: str) -> None:
    """Delete one session (sign-out, or found expired)."""
    with database.write_transaction():
        db.session.execute(sa.delete(WebSession).where(WebSession.id_digest == _digest(token)))
        db.session.commit()


def end_all_of(user_id: int) -> None:
    """Delete every session of one account (it may no longer sign in)."""
    with database.write_transaction():
        db.session.execute(sa.delete(WebSession).where(WebSession.user_id == user_id))
        db.session.commit()
