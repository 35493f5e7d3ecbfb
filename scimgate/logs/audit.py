"""The audit trail: who changed what, when, in which request, with before/after values.

Every change to a user, a group, a membership, a credential or a setting is recorded in the
``audit_event`` table by the code that makes the change, in the same transaction, so the trail
cannot disagree with the data. Secrets are never recorded: a credential change shows
``<changed>``/``<set>`` or a token fingerprint. ``scimgate audit`` prints the trail; rows older
than ``AUDIT_RETENTION_DAYS`` are pruned.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import os
import pwd
from collections.abc import Callable, Collection, Iterator
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from sqlalchemy.orm import Mapped, mapped_column

from scimgate.conf.scim import get_scim_client
from scimgate.db.prepared import Prepared
from scimgate.db.request_state import current_state
from scimgate.extensions import db
from scimgate.logs.scim_logs import current_request_id
from scimgate.models import utcnow


class AuditEvent(db.Model):
    """One recorded change."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(255))
    request_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    target_type: Mapped[str] = mapped_column(sa.String(32))
    target_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    target_name: Mapped[str | None] = mapped_column(sa.String(1000))
    changes: Mapped[str] = mapped_column(sa.Text, default="{}")


_SESSION_ACTOR = "scimgate_audit_session_actor"


def signed_in(username: str | None, *, admin: bool) -> None:
    """Name the account signed in to this request's browser session as the actor of its changes.

    ``scimgate.signin.session.current_account`` calls this: it is the one place that knows who is
    signed in, and every route that may change something (pages, ``/api/v1``, ``/profile``) asks
    it first. Naming the actor there, not in each blueprint's guard, is what keeps a new
    blueprint from recording its changes as nobody's.
    """
    if username is None:
        g.pop(_SESSION_ACTOR, None)
    else:
        setattr(g, _SESSION_ACTOR, f"{'admin' if admin else 'user'}:{username}")


def os_user() -> str:
    """The person at the server's shell: the login name of the process's real user id (from the
    password database, not from an environment variable that anyone can set), or, when that is
    root and the command runs under ``sudo``, the user who ran ``sudo`` (``SUDO_USER``)."""
    uid = os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:  # a container user without a passwd entry
        name = f"uid{uid}"
    if uid == 0 and os.environ.get("SUDO_USER"):
        return os.environ["SUDO_USER"]
    return name


def actor() -> str:
    """Who is acting, decided here and only here (no caller names the actor):

    - ``scim:<client>:<credential>`` for a request the IdP authenticated on ``/scim/v2``;
    - ``admin:<username>`` (``user:<username>`` for an account without the Server Admin role, who
      can only change their own profile) for a request of a signed-in browser session;
    - ``cli:<os user>`` for a ``scimgate`` command or ``scimgate shell`` (``os_user``);
    - ``system:<job>`` for a background task running inside ``as_system(job)``.

    A request with none of these has nobody to answer for a change: ``web:anonymous`` then marks
    the bug in the route (the audit tests fail on it).
    """
    job = _SYSTEM_JOB.get()
    if job is not None:
        return f"system:{job}"
    if has_request_context():
        state = current_state()
        principal = state.principal if state is not None else None
        if principal:
            return f"scim:{get_scim_client()}:{principal}"
        return g.get(_SESSION_ACTOR) or "web:anonymous"
    return f"cli:{os_user()}"


_SYSTEM_JOB: contextvars.ContextVar[str | None] = contextvars.ContextVar("scimgate_audit_job", default=None)


@contextlib.contextmanager
def as_system(job: str) -> Iterator[None]:
    """Record the changes of a background task (no person, no IdP) as ``system:<job>``."""
    token = _SYSTEM_JOB.set(job)
    try:
        yield
    finally:
        _SYSTEM_JOB.reset(token)


_JSON_NATIVE = frozenset({str, bool, int, float, type(None)})


def _plain(value: Any) -> Any:
    """``value`` as JSON can hold it: most are already (a user's fields), so they skip the checks."""
    return value if type(value) in _JSON_NATIVE else _jsonable(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat() + "Z"
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return value


# A Core INSERT run at once in the caller's transaction: an ORM object would bring the unit of
# work's flush into every write's commit just for this row.
EVENT_KEYS = ("at", "actor", "request_id", "action", "target_type", "target_id", "target_name", "changes")
_INSERT = Prepared(sa.insert(AuditEvent.__table__), keys=EVENT_KEYS)


def event_row(
    action: str,
    target_type: str,
    target_id: str | None,
    *,
    target_name: str | None = None,
    changes: dict[str, tuple[Any, Any]] | dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The values of one event's row (``EVENT_KEYS``), for ``record`` or for a writer that
    inserts the event in its own statement (``services.user_writes``).

    ``changes`` maps a field to ``(before, after)``, or to a plain value for events with no
    "before" (e.g. the members added).
    """
    rendered = {
        key: {"before": _plain(v[0]), "after": _plain(v[1])} if isinstance(v, tuple) else _plain(v)
        for key, v in (changes or {}).items()
    }
    return {
        "at": utcnow(),
        "actor": actor()[:255],
        "request_id": current_request_id() if has_request_context() else None,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "target_name": (target_name or "")[:1000] or None,
        "changes": json.dumps(rendered, ensure_ascii=False, sort_keys=True),
    }


def record(
    action: str,
    target_type: str,
    target_id: str | None,
    *,
    target_name: str | None = None,
    changes: dict[str, tuple[Any, Any]] | dict[str, Any] | None = None,
) -> None:
    """Write an event in the current transaction (the caller commits it with its change)."""
    insert_event(event_row(action, target_type, target_id, target_name=target_name, changes=changes))


def insert_event(row: dict[str, Any]) -> None:
    """Insert an ``event_row`` in the current transaction."""
    # On the session's connection: no autoflush, so a caller's pending ORM change (a group
    # rename) is still flushed at its commit, where a taken name becomes 409.
    _INSERT.run(row)


def conf_change(
    action: str, *, target: str | None = None, changes: dict[str, Any] | None = None
) -> Callable[[dict[str, tuple[Any, Any]]], None]:
    """The recording a configuration write runs in its transaction (``conf.store.put_many``'s
    ``record``): one ``action`` event about the keys written (or ``target``), whose changes are
    each key's before/after, or ``changes`` when the writer words them better (a token's
    fingerprint, never the token)."""

    def record_change(written: dict[str, tuple[Any, Any]]) -> None:
        record(
            action,
            "setting",
            target or ",".join(sorted(written))[:255],
            changes=written if changes is None else changes,
        )

    return record_change


def prune(now: dt.datetime | None = None) -> int:
    """Delete events older than the retention period; return how many."""
    days = current_app.config["AUDIT_RETENTION_DAYS"]
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    result = db.session.execute(sa.delete(AuditEvent).where(AuditEvent.at < cutoff))
    pruned = result.rowcount or 0
    # The pruning itself is recorded (after the delete, so it survives it): who shortened the trail.
    record("audit.pruned", "audit", None, changes={"deleted": pruned, "retention_days": days})
    db.session.commit()
    return pruned


def query(since: dt.datetime | None = None, target: str | None = None, limit: int = 1000) -> list[AuditEvent]:
    """Events, oldest first, optionally since a time and about one target (id or name)."""
    statement = sa.select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id)
    if since is not None:
        statement = statement.where(AuditEvent.at >= since)
    if target:
        statement = statement.where(sa.or_(AuditEvent.target_id == target, AuditEvent.target_name == target))
    return list(db.session.scalars(statement.limit(limit)))


# --- reading for the admin pages (issue 17: what happened to this user, what did this request do) ---


# An event may be written a moment before its resource's row (``record`` runs in the same
# transaction, before the flush that sets the row's time): how far before still counts.
CREATED_MARGIN = dt.timedelta(minutes=1)


def about(
    target_types: Collection[str], target_ids: Collection[str], created: dt.datetime | None = None
) -> sa.Select:
    """Events about one resource, newest first: any of its ``target_types`` spellings and any of
    the ids it is recorded under (a SCIM id, its own id). A statement, so pages can page it;
    ``target_id`` is indexed.

    With ``created`` (when the resource's row was made), events from before it are left out: SQLite
    gives the id of a deleted newest row to the next one, so they belong to an earlier resource.
    """
    statement = (
        sa.select(AuditEvent)
        .where(AuditEvent.target_type.in_(target_types), AuditEvent.target_id.in_(target_ids))
        .order_by(AuditEvent.id.desc())
    )
    return statement if created is None else statement.where(AuditEvent.at >= created - CREATED_MARGIN)


def of_request(request_id: str, limit: int = 200) -> list[AuditEvent]:
    """The events one request caused, in the order they were written (``request_id`` is indexed)."""
    statement = sa.select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.id)
    return list(db.session.scalars(statement.limit(limit)))


def counts_by_request(request_ids: Collection[str]) -> dict[str, int]:
    """How many events each of these requests caused (absent: none), in one statement."""
    if not request_ids:
        return {}
    statement = (
        sa.select(AuditEvent.request_id, sa.func.count())
        .where(AuditEvent.request_id.in_(set(request_ids)))
        .group_by(AuditEvent.request_id)
    )
    return {request_id: count for request_id, count in db.session.execute(statement).all()}
