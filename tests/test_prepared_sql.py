"""Prepared statements (``scimgate.db.prepared``) behave exactly as SQLAlchemy's own execution:
the same rows and types, the same wrapped errors, visible to statement listeners. Run against
the real database of the session (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from scimgate.db.connection import get_connection
from scimgate.db.prepared import Prepared
from scimgate.extensions import db
from scimgate.logs.audit import AuditEvent
from scimgate.models import ScimUser, User, UserProfile
from scimgate.services.user_records import USER_COLUMNS
from scimgate.services.user_writes import ACCOUNT_INSERT_KEYS
from tests.support.resources import new_user
from tests.support.sql_counter import count_statements

_user = User.__table__.c
_link = ScimUser.__table__.c
_BY_USERNAME = (
    sa.select(*USER_COLUMNS)
    .select_from(
        ScimUser.__table__.join(User.__table__, _user.id == _link.user_id).join(
            UserProfile.__table__, UserProfile.__table__.c.user_id == _user.id
        )
    )
    .where(_user.username == sa.bindparam("key"))
)
_AUDIT_KEYS = ("at", "actor", "request_id", "action", "target_type", "target_id", "target_name", "changes")


def test_rows_equal_sqlalchemys_with_the_same_types(app, scim):
    new_user(scim, "typed", displayName="Typed", externalId="ext-typed")
    with app.test_request_context():
        expected = get_connection().execute(_BY_USERNAME, {"key": "typed"}).all()
        got = Prepared(_BY_USERNAME).rows({"key": "typed"})
        db.session.rollback()
    assert got == [tuple(row) for row in expected]
    record = got[0]
    assert isinstance(record[10], bool) and isinstance(record[11], bool)  # is_active, is_suspended
    assert isinstance(record[12], dt.datetime) and isinstance(record[13], dt.datetime)


def test_first_and_scalar_and_run(app, scim):
    new_user(scim, "counted")
    returning = Prepared(
        sa.insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id), keys=_AUDIT_KEYS
    )
    with app.test_request_context():
        assert Prepared(_BY_USERNAME).first({"key": "nobody"}) is None
        assert Prepared(_BY_USERNAME).first({"key": "counted"})[3] == "counted"
        at = dt.datetime(2026, 1, 2, 3, 4, 5, 678000)
        event_id = returning.scalar({k: None for k in _AUDIT_KEYS} | _audit_values(at))
        touched = Prepared(
            sa.update(AuditEvent.__table__)
            .where(AuditEvent.__table__.c.id == sa.bindparam("row_key"))
            .values(action=sa.bindparam("new_action"))
        ).run({"row_key": event_id, "new_action": "test.renamed"})
        db.session.commit()
    assert touched == 1
    with app.app_context():
        stored = db.session.get(AuditEvent, event_id)
        # the datetime went through the bind processor and back
        assert (stored.action, stored.at) == ("test.renamed", at)


def test_constraint_failures_are_sqlalchemys_integrity_error_and_change_nothing(app, scim):
    new_user(scim, "taken")
    insert = Prepared(sa.insert(User.__table__), keys=ACCOUNT_INSERT_KEYS)
    values = {
        "username": "taken",
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": True,
        "date_joined": dt.datetime(2026, 1, 1),
        "is_builtin": False,
        "role": "viewer",
        "approval_pending": False,
    }
    with app.test_request_context():
        with pytest.raises(sa.exc.IntegrityError) as raised:
            insert.run(values)
        db.session.rollback()
    assert "SQL parameters hidden" in str(raised.value)  # our parameters (personal data) stay out
    with app.app_context():
        count = sa.select(sa.func.count()).select_from(User).where(User.username == "taken")
        assert db.session.scalar(count) == 1


def test_statement_listeners_see_prepared_statements(app, scim):
    new_user(scim, "seen")
    with count_statements(app) as statements, app.test_request_context():
        Prepared(_BY_USERNAME).rows({"key": "seen"})
        db.session.rollback()
    assert len([s for s in statements if "auth_user.username" in s]) == 1


def test_statements_that_need_sqlalchemys_full_path_are_refused(app):
    with app.test_request_context():
        missing_default = Prepared(sa.insert(User.__table__), keys=("username",))
        with pytest.raises(ValueError, match="every column"):
            missing_default.run({"username": "x"})  # role/approval_pending have Python defaults
        expanding = Prepared(sa.select(_user.id).where(_user.id.in_(sa.bindparam("ids", expanding=True))))
        with pytest.raises(ValueError, match="IN parameters"):
            expanding.rows({"ids": [1]})
        db.session.rollback()


def _audit_values(at: dt.datetime) -> dict[str, object]:
    return {
        "at": at,
        "actor": "test",
        "action": "test.prepared",
        "target_type": "User",
        "changes": "{}",
    }


def test_get_connection_is_always_the_connection_of_the_sessions_current_transaction(app):
    with app.test_request_context():
        first = get_connection()
        assert get_connection() is first is db.session.connection()
        db.session.commit()  # the transaction ends; the next one may get another connection
        assert get_connection() is db.session.connection()
        assert db.session().get_transaction() is not None
        before_rollback = db.session().get_transaction()
        db.session.rollback()
        assert get_connection() is db.session.connection()
        assert db.session().get_transaction() is not before_rollback
        assert get_connection().in_transaction()
        db.session.rollback()
