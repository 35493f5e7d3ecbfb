"""CSV exports for Server Admins: ``/admin/users.csv``, ``/admin/groups.csv``, ``/admin/activity.csv``.

What admins ask for first: the directory as a spreadsheet. Each export follows its list page's
filters (users: search and kind; groups: search; activity: status class, method, resource, time
range, credential and request id) and is linked from it.

- **Streamed**: rows are read ``CHUNK`` at a time by key (keyset paging, one short statement per
  chunk) and sent as they are written, so a 100,000-user directory is never held in memory.
- **UTF-8** with a byte-order mark, so spreadsheets read names in any script; times are ISO 8601
  with an offset (``timefmt.for_machines``); kinds, statuses and roles are the JSON API's values.
- **Safe to open**: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  is prefixed with ``'``, so a spreadsheet shows it instead of running it as a formula (OWASP's
  "CSV injection"; usernames and group names come from the IdP, so they are untrusted).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, request, stream_with_context

from scimgate.accounts import groups as app_groups
from scimgate.accounts import users
from scimgate.extensions import db
from scimgate.logs import activity as scim_activity
from scimgate.logs.activity import ScimActivity
from scimgate.models import DirectoryGroup, User, utcnow
from scimgate.web import timefmt
from scimgate.web.admin import activity_filters
from scimgate.web.admin import groups as groups_page
from scimgate.web.admin import users as users_page

CHUNK = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GROUP_SEPARATOR = "; "

USER_COLUMNS = [
    "Username",
    "Display name",
    "Email",
    "Kind",
    "Status",
    "Role",
    "SCIM id",
    "externalId",
    "Groups",
]
GROUP_COLUMNS = ["Name", "Kind", "Role", "Members"]
ACTIVITY_COLUMNS = [
    "Time",
    "Method",
    "Path",
    "Status",
    "Duration (ms)",
    "Request id",
    "Credential",
    "Requests",
    "Reason",
]

Rows = Iterator[list[list[Any]]]  # chunks of rows


def register(bp: Blueprint) -> None:
    """Add the three exports to the admin blueprint (its guard admits Server Admins only)."""
    bp.add_url_rule("/users.csv", "users_export", export_users, methods=["GET"])
    bp.add_url_rule("/groups.csv", "groups_export", export_groups, methods=["GET"])
    bp.add_url_rule("/activity.csv", "activity_export", export_activity, methods=["GET"])


def safe_cell(value: Any) -> Any:
    """The value, with ``'`` before text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose ``write`` returns the text, so ``csv.writer`` yields lines."""

    def write(self, text: str) -> str:
        return text


def csv_response(name: str, header: Sequence[str], chunks: Rows) -> Response:
    """Stream ``chunks`` as ``scimgate-NAME-YYYY-MM-DD.csv`` (an attachment)."""
    writer = csv.writer(_Echo())

    def generate() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)
        for chunk in chunks:
            yield "".join(writer.writerow([safe_cell(cell) for cell in row]) for row in chunk)

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="scimgate-{name}-{utcnow().date()}.csv"'
    return response


def _keyset(statement: sa.Select, key: Any, *, newest_first: bool = False) -> Iterator[list[Any]]:
    """Run ``statement`` ``CHUNK`` rows at a time, ordered by ``key`` (a unique column)."""
    statement = statement.order_by(None).order_by(key.desc() if newest_first else key).limit(CHUNK)
    last = None
    while True:
        page = statement if last is None else statement.where(key < last if newest_first else key > last)
        batch = list(db.session.execute(page).unique().scalars())
        if not batch:
            return
        yield batch
        last = batch[-1].id


def _user_chunks(query: str, kind: str) -> Rows:
    for batch in _keyset(users_page.search(query, kind), User.id):
        memberships = users.groups_of([user.id for user in batch])
        rows = []
        for user in batch:
            account = users.view(user, memberships[user.id])
            rows.append(
                [
                    user.username,
                    user.profile.display_name if user.profile else "",
                    user.email,
                    account.kind.value,
                    account.status.value,
                    account.role.value,
                    user.scim.scim_user_uuid if user.scim else "",
                    (user.scim.external_id or "") if user.scim else "",
                    GROUP_SEPARATOR.join(g.external_unique_name for g in account.groups),
                ]
            )
        yield rows


def export_users() -> Response:
    """Every user matching the users page's search and kind, oldest first."""
    query = request.args.get("q", "").strip()
    kind = request.args.get("kind", "")
    if kind not in dict(users_page.KINDS):
        kind = ""
    return csv_response("users", USER_COLUMNS, _user_chunks(query, kind))


def _group_chunks(query: str) -> Rows:
    for batch in _keyset(groups_page.search(query), DirectoryGroup.id):
        counts = groups_page.member_counts([g.id for g in batch])
        yield [
            [g.external_unique_name, app_groups.kind_of(g).value, g.role or "", counts[g.id]] for g in batch
        ]


def export_groups() -> Response:
    """Every group matching the groups page's search, oldest first."""
    return csv_response("groups", GROUP_COLUMNS, _group_chunks(request.args.get("q", "").strip()))


def _activity_chunks(filters: activity_filters.ActivityFilters) -> Rows:
    if scim_activity.flush():  # this process's queued requests first, as the page does
        db.session.commit()
    statement = sa.select(ScimActivity).where(*filters.conditions())
    for batch in _keyset(statement, ScimActivity.id, newest_first=True):
        yield [
            [
                timefmt.for_machines(r.at),
                r.method,
                r.path,
                r.status,
                round(r.duration_ms, 2),
                r.request_id,
                r.principal or "",
                r.requests,
                r.reason or "",
            ]
            for r in batch
        ]


def export_activity() -> Response:
    """The recorded SCIM requests the activity page's filters select, newest first."""
    return csv_response("activity", ACTIVITY_COLUMNS, _activity_chunks(activity_filters.parse(request.args)))
