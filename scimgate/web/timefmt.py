"""How scimgate writes a moment in time, on its pages and in its commands: one form for people, one
for machines.

People (pages, CLI output) read ``2026-12-04 07:23:05 UTC``: the date first, seconds kept (SCIM
requests and audit events are often seconds apart and are matched against log lines), and the time
zone always stated. Machines (CSV exports, the ``datetime`` attribute of a page's ``<time>``
element) get ISO 8601 with an explicit offset, ``2026-12-04T07:23:05+00:00``, which spreadsheets and
``datetime.fromisoformat`` read as-is. Every stored time is naive UTC (``models.utcnow``); the
configuration helpers hand some of them on as ISO strings ending in ``Z``, so both are accepted.
"""

from __future__ import annotations

import datetime as dt

PEOPLE_FORMAT = "%Y-%m-%d %H:%M:%S UTC"

Moment = dt.datetime | str | None


def as_utc(value: Moment) -> dt.datetime | None:
    """The moment as an aware UTC datetime, to the second (None stays None).

    A naive datetime is taken as UTC (how the database stores every time); a string is read as
    ISO 8601 (a trailing ``Z`` means UTC).
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0)


def for_people(value: Moment) -> str:
    """``2026-12-04 07:23:05 UTC`` (empty for no time): what pages and commands print."""
    moment = as_utc(value)
    return "" if moment is None else moment.strftime(PEOPLE_FORMAT)


def for_machines(value: Moment) -> str:
    """``2026-12-04T07:23:05+00:00`` (empty for no time): CSV cells and ``<time datetime>``."""
    moment = as_utc(value)
    return "" if moment is None else moment.isoformat()
