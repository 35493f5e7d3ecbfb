"""How a user write reaches the database: one read, then only the rows whose values change.

Asserted as statements and as the rows left behind, through real HTTP requests and a real
database (never timings).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from scimgate.extensions import db
from scimgate.logs.audit import AuditEvent
from scimgate.models import ScimUser, User, UserProfile
from scimgate.scim import urns
from tests.support.config import add_local_user
from tests.support.resources import assert_error, new_user
from tests.support.sql_counter import count_statements


def _patch(scim, user_id: str, value: dict, **headers):
    body = {"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "value": value}]}
    return scim.patch(f"/Users/{user_id}", json=body, headers=headers)


def _updates(statements: list[str], table: str) -> list[str]:
    """Statements that update ``table``: alone, or as a part of one (PostgreSQL's update)."""
    return [s for s in statements if f"UPDATE {table.upper()} SET " in s.upper()]


def _user_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT") and "auth_user" in s]


def test_a_patch_updates_only_the_tables_whose_values_change(app, scim):
    user = new_user(scim, "writer", displayName="Writer", externalId="ext-1")

    with count_statements(app) as deactivate:
        assert _patch(scim, user["id"], {"active": False}).status_code == 200
    assert len(_updates(deactivate, "auth_user")) == 1  # is_active
    assert _updates(deactivate, "userprofile") == []
    assert len(_updates(deactivate, "scim_user")) == 1  # version, lastModified
    assert len(_user_reads(deactivate)) == 1  # the user and its groups, in one statement

    with count_statements(app) as relink:
        assert _patch(scim, user["id"], {"externalId": "ext-2"}).status_code == 200
    assert _updates(relink, "auth_user") == []
    assert _updates(relink, "userprofile") == []
    assert len(_updates(relink, "scim_user")) == 1

    with count_statements(app) as rename:
        assert _patch(scim, user["id"], {"displayName": "Renamed"}).status_code == 200
    assert _updates(rename, "auth_user") == []
    assert len(_updates(rename, "userprofile")) == 1

    shown = scim.get(f"/Users/{user['id']}").get_json()
    assert (shown["active"], shown["externalId"], shown["displayName"]) == (False, "ext-2", "Renamed")
    assert shown["meta"]["version"] == 'W/"4"'


def test_reactivation_lifts_a_suspension_in_the_profile_row(app, scim):
    user = new_user(scim, "suspended.one")
    with app.app_context():
        user_pk = db.session.scalar(sa.select(ScimUser.user_id).where(ScimUser.scim_user_uuid == user["id"]))
        db.session.execute(
            sa.update(UserProfile).where(UserProfile.user_id == user_pk).values(is_suspended=True)
        )
        db.session.commit()
    assert scim.get(f"/Users/{user['id']}").get_json()["active"] is False

    with count_statements(app) as statements:
        assert _patch(scim, user["id"], {"active": True}).get_json()["active"] is True
    assert len(_updates(statements, "userprofile")) == 1
    assert _updates(statements, "auth_user") == []  # is_active was already true
    with app.app_context():
        assert db.session.get(UserProfile, user_pk).is_suspended is False


def test_a_patch_to_a_taken_username_is_409_and_changes_nothing(app, scim):
    new_user(scim, "taken")
    mine = new_user(scim, "mine", displayName="Mine")
    assert_error(
        _patch(scim, mine["id"], {"userName": "taken", "displayName": "X"}), 409, "uniqueness", "taken"
    )
    assert scim.get(f"/Users/{mine['id']}").get_json() == mine
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target_id == mine["id"]))
        assert list(actions) == ["user.created"]


def _row_counts(app) -> tuple[int, ...]:
    with app.app_context():
        tables = (User, UserProfile, ScimUser, AuditEvent)
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in tables)


def test_a_create_writes_the_account_profile_link_and_its_event_and_a_taken_name_writes_nothing(app, scim):
    """On PostgreSQL the four rows are one statement (``user_writes._create_in_one_statement``),
    on SQLite four in one transaction: either way all of them or none."""
    before = _row_counts(app)
    created = new_user(scim, "four.rows", displayName="Four Rows", externalId="ext-4")
    assert _row_counts(app) == tuple(n + 1 for n in before)
    with app.app_context():
        account = db.session.scalar(sa.select(User).where(User.username == "four.rows"))
        link = db.session.get(ScimUser, account.id)
        assert (link.scim_user_uuid, link.external_id, link.version) == (created["id"], "ext-4", 1)
        assert db.session.get(UserProfile, account.id).display_name == "Four Rows"
        (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.target_id == created["id"]))
        assert (event.action, event.target_type, event.target_name) == ("user.created", "User", "four.rows")
        assert event.actor.startswith("scim:") and event.request_id
        assert json.loads(event.changes)["externalId"] == {"before": None, "after": "ext-4"}

    taken = _row_counts(app)  # and a taken name writes none of them
    body = {"schemas": [urns.USER], "userName": "four.rows", "displayName": "Again"}
    assert_error(scim.post("/Users", json=body), 409, "uniqueness", "four.rows")
    assert _row_counts(app) == taken


def test_a_stale_if_match_writes_nothing(app, scim):
    user = new_user(scim, "etagged")
    with count_statements(app) as statements:
        response = _patch(scim, user["id"], {"active": False}, **{"If-Match": 'W/"7"'})
    assert_error(response, 412, None, 'W/"1"')
    assert not [
        s
        for s in statements
        if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE", "WITH")) and "scim_activity" not in s
    ]
    assert scim.get(f"/Users/{user['id']}").get_json() == user


def test_adoption_keeps_the_account_row_and_records_what_the_idp_changed(app, scim):
    with app.app_context():
        local = add_local_user("early.bird")
        local_pk = local.id
    body = {
        "userName": "early.bird",
        "name": {"givenName": "Early", "familyName": "Bird"},
        "displayName": "Early Bird",
        "emails": [{"value": "early@example.com", "type": "work", "primary": True}],
        "externalId": "00u-early",
    }
    created = new_user(scim, **body)
    assert created["displayName"] == "Early Bird" and created["active"] is True
    assert created["emails"] == [{"value": "early@example.com", "type": "work", "primary": True}]
    assert scim.get(f"/Users/{created['id']}").get_json() == created
    with app.app_context():
        link = db.session.scalar(sa.select(ScimUser).where(ScimUser.scim_user_uuid == created["id"]))
        assert link.user_id == local_pk  # the application's own references to the account survive
        (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.target_id == created["id"]))
        assert event.action == "user.adopted"  # and no "user.created" beside it
        changes = json.loads(event.changes)
        assert changes["displayName"] == {"before": "early.bird", "after": "Early Bird"}
        assert changes["externalId"] == {"before": None, "after": "00u-early"}
        assert "userName" not in changes  # the same name: nothing changed there


def test_an_account_without_a_profile_row_is_adopted_with_one(app, scim):
    with app.app_context():
        db.session.execute(sa.insert(User).values(username="bare", is_active=True))
        db.session.commit()
    created = new_user(scim, "bare", displayName="Bare Bones")
    assert scim.get(f"/Users/{created['id']}").get_json()["displayName"] == "Bare Bones"
    with app.app_context():
        user_pk = db.session.scalar(sa.select(User.id).where(User.username == "bare"))
        assert db.session.get(UserProfile, user_pk).display_name == "Bare Bones"


def test_a_created_user_has_the_applications_defaults(app, scim):
    """The columns the SCIM body does not set get the same values an ORM-made account gets."""
    created = new_user(scim, "defaults", active=False)
    with app.app_context():
        row = db.session.execute(
            sa.select(
                User.is_builtin, User.role, User.approval_pending, User.date_joined, User.is_active
            ).where(User.username == "defaults")
        ).one()
        assert (row.is_builtin, row.role, row.approval_pending, row.is_active) == (
            False,
            "viewer",
            False,
            False,
        )
        assert row.date_joined is not None
        profile = db.session.execute(
            sa.select(UserProfile.is_suspended).join(User).where(User.username == "defaults")
        ).scalar_one()
        assert profile is False
    assert created["active"] is False


def test_a_delete_reads_the_user_without_its_groups(app, scim):
    """A DELETE answers 204: reading the user's groups for it would be work for nothing."""
    user = new_user(scim, "leaving")
    with count_statements(app) as statements:
        assert scim.delete(f"/Users/{user['id']}").status_code == 204
    reads = _user_reads(statements)
    assert len(reads) == 1 and "group_membership" not in reads[0]
    assert scim.get(f"/Users/{user['id']}").status_code == 404


def _inserts(statements: list[str], table: str) -> list[str]:
    """Statements that insert into ``table``: alone, or as a part of one (PostgreSQL's create)."""
    return [s for s in statements if f"INSERT INTO {table.upper()} " in s.upper()]


def _on_postgresql(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_creating_a_new_username_is_one_insert_per_row_and_no_lookup(app, scim):
    with count_statements(app) as statements:
        new_user(scim, "fresh", displayName="Fresh")
    assert _user_reads(statements) == []  # no "is the name taken?" SELECT first
    for table in ("auth_user", "userprofile", "scim_user", "audit_event"):
        assert len(_inserts(statements, table)) == 1, table
    writes = [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
    # PostgreSQL: the four inserts are one statement, its own transaction; SQLite: four.
    assert len(writes) == (1 if _on_postgresql(app) else 4), writes


def test_a_taken_username_writes_nothing_and_only_then_is_looked_up(app, scim):
    first = new_user(scim, "twice", displayName="First")
    with app.app_context():
        counts = [
            db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (User, ScimUser, AuditEvent)
        ]
    with count_statements(app) as statements:
        response = scim.post(
            "/Users", json={"schemas": [urns.USER], "userName": "twice", "displayName": "Second"}
        )
    assert_error(response, 409, "uniqueness", "twice")
    assert len(_inserts(statements, "auth_user")) == 1  # tried, and wrote nothing
    assert len(_user_reads(statements)) == 1  # then the existing account was looked up
    # On SQLite the link is never tried; PostgreSQL's one statement tried it with the account.
    assert len(_inserts(statements, "scim_user")) == (1 if _on_postgresql(app) else 0)
    with app.app_context():
        assert [
            db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (User, ScimUser, AuditEvent)
        ] == counts
    assert scim.get(f"/Users/{first['id']}").get_json()["displayName"] == "First"


def test_a_patch_is_one_write_statement_on_postgresql_after_an_unlocked_read(app, scim):
    user = new_user(scim, "one.write", displayName="One")
    with count_statements(app) as statements:
        assert _patch(scim, user["id"], {"displayName": "Two", "active": False}).status_code == 200
    writes = [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
    locks = [s for s in statements if "FOR UPDATE" in s.upper()]
    if _on_postgresql(app):  # the read locks nothing; the write checks the version it read
        assert len(writes) == 1 and locks == [], statements
        assert "scim_user.version = " in writes[0]
    else:  # BEGIN IMMEDIATE holds SQLite's write lock: three UPDATEs and the audit INSERT
        assert len(writes) == 4 and locks == [], statements


def _writes_waiting_for_a_lock(app) -> int:
    """Backends whose one-statement user update waits for a lock (no other backend counts)."""
    with app.app_context(), db.engine.connect() as connection:
        query = (
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'WITH written_link%%'"
        )
        return connection.exec_driver_sql(query).scalar_one()


def test_a_patch_that_meets_a_concurrent_write_runs_again_under_the_lock_and_loses_nothing(
    app, scim, log_dir
):
    """The optimistic write finds the version it read gone (another transaction wrote the user
    while the PATCH waited for the row): it writes nothing, the request runs again, reads under
    the row lock, and applies its change on top of the other one."""
    if not _on_postgresql(app):
        pytest.skip("SQLite's BEGIN IMMEDIATE makes writers wait before they read: no version can move")
    user = new_user(scim, "raced", displayName="Before", externalId="ext-0")
    link = ScimUser.__table__.c
    with app.app_context():
        holder = db.engine.connect()
    try:
        other_write = holder.begin()
        holder.execute(
            sa.update(ScimUser.__table__)
            .where(link.scim_user_uuid == user["id"])
            .values(external_id="ext-other", version=link.version + 1)
        )
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(_patch, scim, user["id"], {"displayName": "After"})
            deadline = time.monotonic() + 30
            while _writes_waiting_for_a_lock(app) < 1:  # the PATCH's write waits for the row
                assert time.monotonic() < deadline, "the PATCH never waited for the row lock"
                time.sleep(0.02)
            other_write.commit()
            response = pending.result(timeout=30)
    finally:
        holder.close()
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["displayName"], body["externalId"], body["meta"]["version"]) == (
        "After",
        "ext-other",
        'W/"3"',
    )
    assert scim.get(f"/Users/{user['id']}").get_json() == body
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.target_id == user["id"]).order_by(AuditEvent.id)
        )
        assert list(actions) == ["user.created", "user.patched"]  # the first attempt recorded nothing
    request_id = response.headers["X-Request-Id"]
    retries = [line for line in (log_dir / "scim-info.log").read_text().splitlines() if "db.retry" in line]
    assert any(request_id in line and "sqlstate=version" in line for line in retries), retries
