"""The SCIM activity page's filters (status class, method, resource, time range, credential, request
id), read from the query string once and shared by the page and its CSV export.

A value the page does not know is ignored with a sentence saying so (never a 500, never an empty
page that looks like "the IdP sent nothing"). Times are UTC, as the page shows them: ``since`` is
inclusive and ``until`` covers the whole second, minute or day it names (``until=2026-12-04``
means up to the end of that day).

Every condition reads columns of the one ``scim_activity`` table, which is capped at
``SCIM_ACTIVITY_KEEP`` + ``SCIM_ACTIVITY_KEEP_ANONYMOUS`` rows: the page walks its primary key
newest first and stops after one page, so no index beyond the primary key (and ``at``, for a time
range) is needed, and the inserts stay as cheap as they were.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from scimgate.logs import activity as scim_activity
from scimgate.logs import scim_logs as scim_logging
from scimgate.logs.activity import ScimActivity

PREFIX = scim_logging.SCIM_PATH_PREFIX
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DISCOVERY = ("ServiceProviderConfig", "ResourceTypes", "Schemas")
RESOURCES = (
    ("", "All"),
    ("Users", "Users"),
    ("Groups", "Groups"),
    ("discovery", "Discovery"),
    ("other", "Other paths"),
)
STATUS_ALIASES = {"failed": "errors"}  # the word for "4xx and 5xx"
REQUEST_ID_MAX = 128
SHOWN_MAX = 40  # how much of a refused value the sentence repeats
_MOMENT = re.compile(r"\d{4}-\d\d-\d\d(?:[T ](\d\d:\d\d)(:\d\d(?:\.\d+)?)?)?Z?")


@dataclass(frozen=True)
class Moment:
    """A time the reader typed: its start, and the end of the second/minute/day it names."""

    start: dt.datetime
    end: dt.datetime


@dataclass
class ActivityFilters:
    """What the reader asked for; empty strings and None mean "any"."""

    status: str = ""
    method: str = ""
    resource: str = ""
    credential: str = ""
    request_id: str = ""
    since: str = ""
    until: str = ""
    since_at: Moment | None = None
    until_at: Moment | None = None
    problems: list[str] = field(default_factory=list)

    def args(self) -> dict[str, str]:
        """The query arguments that reproduce these filters (for paging, the export, the links)."""
        values = {
            "status": self.status,
            "method": self.method,
            "resource": self.resource,
            "credential": self.credential,
            "request": self.request_id,
            "since": self.since,
            "until": self.until,
        }
        return {key: value for key, value in values.items() if value}

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """The WHERE conditions on ``scim_activity``."""
        out: list[sa.ColumnElement[bool]] = []
        bounds = scim_activity.status_range(self.status)
        if bounds:
            out.append(ScimActivity.status.between(*bounds))
        if self.method:
            out.append(ScimActivity.method == self.method)
        if self.resource:
            out.append(resource_condition(self.resource))
        if self.credential == "authenticated":
            out.append(ScimActivity.principal.is_not(None))
        elif self.credential == "unauthenticated":
            out.append(ScimActivity.principal.is_(None))
        if self.request_id:
            out.append(ScimActivity.request_id == self.request_id)
        if self.since_at:
            out.append(ScimActivity.at >= self.since_at.start)
        if self.until_at:
            out.append(ScimActivity.at < self.until_at.end)
        return out


def _endpoint(name: str) -> sa.ColumnElement[bool]:
    """The endpoint ``name`` itself or anything under it (``/Users``, ``/Users/<id>``)."""
    path = f"{PREFIX}/{name}"
    return sa.or_(ScimActivity.path == path, ScimActivity.path.startswith(path + "/", autoescape=True))


def resource_condition(resource: str) -> sa.ColumnElement[bool]:
    """Rows whose path is under one resource kind; ``other`` is everything else."""
    if resource in ("Users", "Groups"):
        return _endpoint(resource)
    discovery = sa.or_(*(_endpoint(name) for name in DISCOVERY))
    if resource == "discovery":
        return discovery
    return sa.not_(sa.or_(_endpoint("Users"), _endpoint("Groups"), discovery))


def _shown(value: str) -> str:
    return repr(value if len(value) <= SHOWN_MAX else value[:SHOWN_MAX] + "…")


def parse_moment(value: str) -> Moment | None:
    """``2026-12-04``, ``2026-12-04T08:30`` or ``2026-12-04 08:30:15`` (UTC), else None."""
    match = _MOMENT.fullmatch(value)
    if match is None:
        return None
    try:
        start = dt.datetime.fromisoformat(value.removesuffix("Z").replace(" ", "T"))
    except ValueError:  # 2026-02-30 has the right shape but is no day
        return None
    if match.group(2):
        step = dt.timedelta(seconds=1)
    elif match.group(1):
        step = dt.timedelta(minutes=1)
    else:
        step = dt.timedelta(days=1)
    start = start.replace(tzinfo=None)
    floor = start.replace(microsecond=0) if match.group(2) else start
    try:
        end = floor + step
    except OverflowError:  # until=9999-12-31: the end of time
        end = dt.datetime.max
    return Moment(start=start, end=end)


def parse(args: Mapping[str, str]) -> ActivityFilters:
    """Read the filters from the query string; each unknown value is dropped with a sentence."""
    found = ActivityFilters()
    status = args.get("status", "").strip()
    status = STATUS_ALIASES.get(status, status)
    if status and scim_activity.status_range(status) is None:
        found.problems.append(f"Status {_shown(status)} is not one of 2xx, 3xx, 4xx, 5xx, failed: ignored.")
    elif status:
        found.status = status
    method = args.get("method", "").strip().upper()
    if method and method not in METHODS:
        found.problems.append(f"Method {_shown(method)} is not one of {', '.join(METHODS)}: ignored.")
    elif method:
        found.method = method
    resource = args.get("resource", "").strip()
    if resource and resource not in dict(RESOURCES):
        found.problems.append(
            f"Resource {_shown(resource)} is not one of Users, Groups, discovery, other: ignored."
        )
    elif resource:
        found.resource = resource
    credential = args.get("credential", "").strip()
    if credential in scim_activity.CREDENTIAL_FILTERS:
        found.credential = credential
    request_id = args.get("request", "").strip()
    if len(request_id) > REQUEST_ID_MAX:
        found.problems.append(f"Request id {_shown(request_id)} is longer than any request id: ignored.")
    else:
        found.request_id = request_id
    for name in ("since", "until"):
        value = args.get(name, "").strip()
        moment = parse_moment(value) if value else None
        if value and moment is None:
            found.problems.append(
                f"{name.capitalize()} {_shown(value)} is not a time such as 2026-12-04 08:30 (UTC): ignored."
            )
        elif moment is not None:
            setattr(found, name, value)
            setattr(found, f"{name}_at", moment)
    if found.since_at and found.until_at and found.since_at.start >= found.until_at.end:
        found.problems.append("Since is after until: no request can match.")
    return found
