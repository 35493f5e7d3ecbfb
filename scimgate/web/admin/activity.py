"""SCIM activity: is the IdP pushing, and what failed? The latest provisioning requests (from
``scim_activity``, shared by every process) and the latest lifecycle events (the audit trail's
changes, each with the request id that made it).

A failed request shows its reason in place (the text of its ``request.refused`` line in
scim-debug.log); a path naming a user or group shows its name, linked to its page; each request
links to the audit events it caused (``?request=<id>``), which is also where an audit event on a
user's or group's page links back to.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from scimgate.extensions import db
from scimgate.logs import activity as scim_activity
from scimgate.logs import audit
from scimgate.models import ROW_ID_MAX
from scimgate.web.admin import activity_filters, activity_names

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
    return value if 0 < value <= ROW_ID_MAX else None  # beyond any id: no bound


def lifecycle_events(limit: int = EVENTS_SHOWN, scim_only: bool = False) -> list[audit.AuditEvent]:
    """The newest audit events first (only the IdP's when ``scim_only``)."""
    statement = sa.select(audit.AuditEvent).order_by(audit.AuditEvent.id.desc()).limit(limit)
    if scim_only:
        statement = statement.where(audit.AuditEvent.actor.like("scim:%"))
    return list(db.session.scalars(statement))


def show() -> tuple[str, int]:
    """The activity page: filtered requests newest first, and the events of the latest changes
    (or, with ``?request=<id>``, of that one request)."""
    filters = activity_filters.parse(request.args)
    rows = scim_activity.latest(
        limit=REQUESTS_PER_PAGE + 1, before_id=_before_id(), conditions=filters.conditions()
    )
    older = rows[REQUESTS_PER_PAGE - 1].id if len(rows) > REQUESTS_PER_PAGE else None
    rows = rows[:REQUESTS_PER_PAGE]
    scim_only = request.args.get("events") != "all"
    if filters.request_id:
        events = audit.of_request(filters.request_id)
    else:
        events = lifecycle_events(scim_only=scim_only)
    return (
        render_template(
            "admin/activity.html",
            requests=rows,
            named=activity_names.names(rows),
            event_counts=audit.counts_by_request([r.request_id for r in rows if r.principal]),
            older_before=older,
            filters=filters,
            filter_args=filters.args(),
            status_filters=STATUS_FILTERS,
            credential_filters=CREDENTIAL_FILTERS,
            methods=activity_filters.METHODS,
            resources=activity_filters.RESOURCES,
            summary=scim_activity.summary(),
            events=events,
            scim_only=scim_only,
        ),
        200,
    )
