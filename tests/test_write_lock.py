"""A SCIM write takes SQLite's write lock once: what it reads after its commit is a read
transaction (asserted on the statements SQLite itself runs, BEGIN included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask

from scimgate.extensions import db
from scimgate.scim import urns
from tests.support.resources import new_group, new_user


@contextmanager
def sqlite_trace(app: Flask) -> Iterator[list[str]]:
    """Every statement SQLite runs on the app's connections (the pool is emptied first)."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's transaction statements")

    def trace(dbapi_connection, _record) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    engine.dispose()
    sa.event.listen(engine, "connect", trace)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "connect", trace)
        engine.dispose()


def _transactions(statements: list[str]) -> list[str]:
    return [s for s in statements if s.split(" ", 1)[0] in {"BEGIN", "COMMIT", "ROLLBACK"}]


def test_a_group_patch_reads_its_response_without_taking_the_write_lock_again(app, scim):
    user = new_user(scim, "member.one")
    group = new_group(scim, "Lockless")
    patch = {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": user["id"]}]}],
    }
    with sqlite_trace(app) as seen:
        response = scim.patch(f"/Groups/{group['id']}", json=patch)
    assert response.status_code == 200 and response.get_json()["members"][0]["value"] == user["id"]
    assert _transactions(seen) == ["BEGIN IMMEDIATE", "COMMIT", "BEGIN", "ROLLBACK"]


def test_a_failed_scim_write_and_other_write_requests_keep_the_lock(app, scim, client):
    taken = new_user(scim, "taken")["userName"]
    mine = new_user(scim, "mine")
    with sqlite_trace(app) as seen:
        refused = scim.put(f"/Users/{mine['id']}", json={"schemas": [urns.USER], "userName": taken})
    assert refused.status_code == 409
    # The UPDATE failed and was rolled back; the check that names the conflict locks again.
    assert _transactions(seen)[:2] == ["BEGIN IMMEDIATE", "ROLLBACK"]
    assert "BEGIN" not in _transactions(seen)
    with sqlite_trace(app) as seen:
        client.post("/login", data={"username": "nobody", "password": "wrong"})
    # A web form's request is not SCIM's: every transaction of it locks up front.
    assert "BEGIN IMMEDIATE" in _transactions(seen) and "BEGIN" not in _transactions(seen)
