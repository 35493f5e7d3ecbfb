"""Support for the diagnosing tests (issue 17): a signed-in admin, SCIM payloads, activity rows of
known shape written straight to the table (times and paths the filters must tell apart)."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from flask.testing import FlaskClient

from scimgate.extensions import db
from scimgate.logs import activity as scim_activity
from scimgate.logs.activity import ScimActivity
from tests.support.signin import add_admin, password_sign_in

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BASE = dt.datetime(2026, 12, 4, 7, 0, 0)


def sign_in_admin(app: Flask, client: FlaskClient, username: str = "admin") -> FlaskClient:
    """A built-in Server Admin signed in on ``client``."""
    with app.app_context():
        add_admin(username)
    assert password_sign_in(client, username).status_code == 302
    return client


def user_body(username: str, **extra: object) -> dict:
    return {"schemas": [USER_SCHEMA], "userName": username, **extra}


def group_body(name: str, member_ids: list[str] = ()) -> dict:  # type: ignore[assignment]
    return {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in member_ids]}


def add_rows(app: Flask, specs: list[tuple[str, str, int, int]]) -> None:
    """Activity rows ``(method, path, status, minutes after BASE)``, request ids ``req-<n>``, all
    authenticated (a credential), oldest first."""
    with app.app_context():
        scim_activity.flush(app)
        for number, (method, path, status, minutes) in enumerate(specs):
            db.session.add(
                ScimActivity(
                    at=BASE + dt.timedelta(minutes=minutes),
                    method=method,
                    path=path,
                    status=status,
                    duration_ms=1.0,
                    request_id=f"req-{number}",
                    principal="token:abcd1234",
                    reason=None if status < 400 else f"{status} invalidValue: reason {number}",
                )
            )
        db.session.commit()


def shown_request_ids(page: str) -> list[str]:
    """The request ids of the rows of the requests table, top to bottom."""
    table = (
        page.split('<table id="requests"', 1)[1].split("</table>", 1)[0] if 'id="requests"' in page else ""
    )
    return re.findall(r'<td data-label="Request id"><code>([^<]*)</code>', table)
