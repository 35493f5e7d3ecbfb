"""SCIM activity: is the IdP pushing, and what failed? The latest provisioning requests (from
``scim_activity``, shared by every process) and the latest lifecycle events (the audit trail's
changes, each with the request id that made it)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from scimgate import audit, scim_activity
from scimgate.extensions import db
from scimgate.web import url_ids

REQUESTS_PER_PAGE = 50
EVENTS_SHOWN = 50
STATUS_FILTERS = (
    ("", "All"),
    ("2xx", "Succeeded (2xx)"),
    ("errors", "Failed (4xx and 5xx)"),
    ("4xx", "Refused (4xx)"),
    ("5xx", "Server errors (5xx)"),
)

CREDENTIAL_FILTERS = (
    ("", "All"),
    ("authenticated", "The IdP's (authenticated)"),
    ("unauthenticated", "Unauthenticated (counted per minute)"),
)


def register(bp: Blueprint) -> None:
    """Add the activity page."""
    bp.add_url_rule("/activity", "activity", show, methods=["GET"])


def _before_id() -> int | None:
    try:
        value = int(request.args.get("before", ""))
    except ValueError:
        return None
    return value if 0 < value <= url_ids.DATABASE_INT_MAX else None  # past it: a 500 in the driver


def lifecycle_events(limit: int = EVENTS_SHOWN, scim_only: bool = False) -> list[audit.AuditEvent]:
    """The newest audit events first (only the IdP's when ``scim_only``)."""
    statement = sa.select(audit.AuditEvent).order_by(audit.AuditEvent.id.desc()).limit(limit)
    if scim_only:
        statement = statement.where(audit.AuditEvent.actor.like("scim:%"))
    return list(db.session.scalars(statement))


def show() -> tuple[str, int]:
    """The activity page, filterable by status class, newest first."""
    status = request.args.get("status", "")
    if scim_activity.status_range(status) is None:
        status = ""
    credential = request.args.get("credential", "")
    if credential not in scim_activity.CREDENTIAL_FILTERS:
        credential = ""
    rows = scim_activity.latest(status, REQUESTS_PER_PAGE + 1, _before_id(), credential)
    older = rows[REQUESTS_PER_PAGE - 1].id if len(rows) > REQUESTS_PER_PAGE else None
    scim_only = request.args.get("events") != "all"
    return (
        render_template(
            "admin/activity.html",
            requests=rows[:REQUESTS_PER_PAGE],
            older_before=older,
            status=status,
            status_filters=STATUS_FILTERS,
            credential=credential,
            credential_filters=CREDENTIAL_FILTERS,
            summary=scim_activity.summary(),
            events=lifecycle_events(scim_only=scim_only),
            scim_only=scim_only,
        ),
        200,
    )
