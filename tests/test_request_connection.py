"""One connection, one transaction per request: ``get_connection()`` and the ORM session share it
(``scimgate.db.session.RequestSession``), and ``db.session.commit()``/``rollback()`` end it
whichever side began it. Visibility is checked from a second, independent connection of the
real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from scimgate.db import session as request_session
from scimgate.db.connection import get_connection
from scimgate.db.liveness import idle_connection_is_closed
from scimgate.db.prepared import Prepared
from scimgate.extensions import db
from scimgate.logs.audit import AuditEvent

_AUDIT = AuditEvent.__table__
_KEYS = ("at", "actor", "request_id", "action", "target_type", "target_id", "target_name", "changes")
_INSERT = Prepared(sa.insert(_AUDIT), keys=_KEYS)


def _core_insert(action: str, row_id: int | None = None) -> None:
    values = {key: None for key in _KEYS} | {
        "at": dt.datetime(2026, 1, 1),
        "actor": "test",
        "action": action,
        "target_type": "User",
        "changes": "{}",
    }
    if row_id is None:
        _INSERT.run(values)
    else:
        Prepared(sa.insert(_AUDIT), keys=(*_KEYS, "id")).run(values | {"id": row_id})


def _orm_add(action: str) -> None:
    db.session.add(
        AuditEvent(at=dt.datetime(2026, 1, 1), actor="test", action=action, target_type="User", changes="{}")
    )
    db.session.flush()


def _committed_actions(app) -> list[str]:
    """What another connection sees: only committed rows."""
    with app.app_context(), db.engine.connect() as other:
        return sorted(other.execute(sa.select(_AUDIT.c.action)).scalars())


def test_core_writes_are_committed_by_the_session_commit(app):
    with app.test_request_context():
        _core_insert("core.only")
        assert _committed_actions(app) == []
        db.session.commit()
    assert _committed_actions(app) == ["core.only"]


def test_core_then_orm_share_one_transaction_and_roll_back_together(app):
    with app.test_request_context():
        _core_insert("core.first")
        _orm_add("orm.second")
        assert db.session.connection() is get_connection()
        db.session.rollback()
        assert _committed_actions(app) == []
        _core_insert("after.rollback")
        db.session.commit()
    assert _committed_actions(app) == ["after.rollback"]


def test_orm_then_core_share_one_transaction_and_commit_together(app):
    with app.test_request_context():
        _orm_add("orm.first")
        _core_insert("core.second")
        assert get_connection() is db.session.connection()
        db.session.commit()
        assert not db.session().held_connection().in_transaction()  # the one commit ended it
    assert _committed_actions(app) == ["core.second", "orm.first"]


def test_after_a_commit_the_next_statement_begins_a_new_transaction_on_the_same_connection(app):
    with app.test_request_context():
        first = get_connection()
        db.session.commit()
        assert not first.in_transaction()
        second = get_connection()
        assert second is first and second.in_transaction()
        _core_insert("second.transaction")
        db.session.commit()
    assert _committed_actions(app) == ["second.transaction"]


def _driver_in_transaction(driver) -> bool:
    status = getattr(getattr(driver, "info", None), "transaction_status", None)
    return bool(driver.in_transaction) if status is None else int(status) != 0


def test_the_end_of_the_context_rolls_back_and_keeps_the_connection_for_the_thread(app):
    """An uncommitted write is rolled back, and the connection stays with its thread for the
    next request (no new checkout), on SQLite and on PostgreSQL."""
    with app.app_context():
        pool = db.engine.pool
    with app.test_request_context():
        get_connection()
    checked_out = pool.checkedout()
    with app.test_request_context():
        _core_insert("never.committed")
        driver = get_connection().connection.dbapi_connection
    assert _committed_actions(app) == []
    assert pool.checkedout() == checked_out
    with app.test_request_context():
        again = get_connection().connection.dbapi_connection
        db.session.rollback()
    assert checked_out >= 1 and again is driver and not _driver_in_transaction(driver)


def _count_checkouts(engine) -> list[int]:
    checkouts: list[int] = []
    sa.event.listen(engine.pool, "checkout", lambda *args: checkouts.append(1))
    return checkouts


def test_a_kept_connection_goes_back_to_the_pool_after_keep_seconds(app, monkeypatch):
    """So the pool's ``pool_recycle`` and its checkout's liveness look still reach it."""
    with app.app_context():
        engine = db.engine
    checkouts = _count_checkouts(engine)
    for _ in range(3):
        with app.test_request_context():
            get_connection()
    assert len(checkouts) <= 1  # at most the first request's
    checkouts.clear()
    monkeypatch.setattr(request_session, "KEEP_SECONDS", 0.0)
    for _ in range(3):
        with app.test_request_context():
            get_connection()
    assert len(checkouts) == 3


def _backend_pid() -> int:
    return int(get_connection().exec_driver_sql("SELECT pg_backend_pid()").scalar())


def _terminate(engine, backend: int) -> None:
    """End ``backend`` from a connection of its own (not the pool's) and wait until it is gone."""
    other_engine = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    try:
        with other_engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({backend}, 5000)")
    finally:
        other_engine.dispose()


def test_a_kept_postgresql_connection_the_server_ended_is_replaced_before_the_next_request(app, scim):
    """No 503 and no round trip: the ended connection's socket says so (``scimgate.db.liveness``)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("needs a server that can end a connection")
    assert scim.get("/Users").status_code == 200
    with app.test_request_context():
        backend = _backend_pid()
    _terminate(engine, backend)
    for _ in range(3):
        response = scim.get("/Users")
        assert response.status_code == 200, response.get_data(as_text=True)
    with app.test_request_context():
        assert _backend_pid() != backend


def test_a_pooled_postgresql_connection_the_server_ended_is_never_checked_out(app):
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("needs a server that can end a connection")
    with engine.connect() as first:
        backend = int(first.exec_driver_sql("SELECT pg_backend_pid()").scalar())
        driver = first.connection.dbapi_connection
        assert not idle_connection_is_closed(driver)
    _terminate(engine, backend)  # now idle in the pool
    assert idle_connection_is_closed(driver)
    with engine.connect() as second:
        assert int(second.exec_driver_sql("SELECT pg_backend_pid()").scalar()) != backend


def test_liveness_never_closes_a_sqlite_or_an_open_idle_connection(app):
    with app.test_request_context():
        driver = get_connection().connection.dbapi_connection
        db.session.rollback()
        assert not idle_connection_is_closed(driver)


def test_a_kept_connection_ends_with_its_thread(app):
    """A thread's kept SQLite connection goes back to the pool when the thread ends."""
    import threading

    with app.app_context():
        pool = db.engine.pool
    before = pool.checkedout()

    def one_request() -> None:
        with app.test_request_context():
            get_connection()
            db.session.rollback()

    worker = threading.Thread(target=one_request)
    worker.start()
    worker.join()
    assert pool.checkedout() == before


def test_a_failed_statement_is_rolled_back_and_the_connection_stays_usable(app):
    with app.test_request_context():
        _core_insert("kept", row_id=7)
        db.session.commit()
        _core_insert("lost", row_id=8)
        with pytest.raises(sa.exc.IntegrityError):
            _core_insert("duplicate", row_id=7)
        db.session.rollback()
        _core_insert("next", row_id=9)
        db.session.commit()
    assert _committed_actions(app) == ["kept", "next"]


def _sqlite_driver_of_one_request(app):
    with app.test_request_context():
        driver = get_connection().connection.dbapi_connection
        db.session.rollback()
    return driver


def test_a_kept_connection_is_not_used_after_the_engine_is_disposed(app):
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite connections are kept between requests")
    first = _sqlite_driver_of_one_request(app)
    assert _sqlite_driver_of_one_request(app) is first
    engine.dispose()
    assert _sqlite_driver_of_one_request(app) is not first


def test_a_forked_child_never_uses_its_parents_kept_connection(app):
    import os

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite connections are kept between requests")
    parents = _sqlite_driver_of_one_request(app)
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if it opened a connection of its own
        try:
            os._exit(0 if _sqlite_driver_of_one_request(app) is not parents else 3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _sqlite_driver_of_one_request(app) is parents


def test_a_lost_postgresql_connection_is_replaced_after_the_rollback(app):
    """The server ends the request's connection mid-transaction: the statement fails as a lost
    connection, and after the rollback (what ``retry_transaction`` does) the same session
    reconnects and writes."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("needs a server that can end a connection")
    with app.test_request_context():
        backend = get_connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(backend)})")
        with pytest.raises(sa.exc.DBAPIError) as caught:
            _core_insert("lost")
        assert caught.value.connection_invalidated
        db.session.rollback()
        _core_insert("after.reconnect")
        assert get_connection().exec_driver_sql("SELECT pg_backend_pid()").scalar() != backend
        db.session.commit()
    assert _committed_actions(app) == ["after.reconnect"]


def test_a_connection_that_cannot_be_reset_is_dropped_and_the_next_request_gets_another(app):
    import logging

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("closes the SQLite driver connection behind SQLAlchemy's back")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("scimgate.db.session")
    logger.addHandler(handler)
    try:
        with app.test_request_context():
            broken = get_connection().connection.dbapi_connection
            broken.close()  # the rollback at the end of the context now fails
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == ["a request's connection could not be reset: dropped"]
    with app.test_request_context():
        assert get_connection().connection.dbapi_connection is not broken
        _core_insert("after.broken")
        db.session.commit()
    assert _committed_actions(app) == ["after.broken"]


def test_a_kept_connection_never_keeps_a_transaction_begun_behind_sqlalchemys_back(app):
    with app.app_context():
        engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    with app.test_request_context():
        connection = get_connection()
        db.session.commit()
        driver = connection.connection.dbapi_connection
        # SQLAlchemy does not know: on SQLite it holds the write lock
        driver.execute("BEGIN IMMEDIATE" if sqlite else "BEGIN")
        assert _driver_in_transaction(driver) and not connection.in_transaction()
    assert not _driver_in_transaction(driver)
    with engine.begin() as other:  # another connection can write at once
        other.execute(sa.delete(_AUDIT))


def test_a_request_whose_commit_failed_leaves_its_connection_clean_for_the_next_one(app):
    """A COMMIT that fails (here a deferred foreign key; in production a full disk) leaves the
    connection's transaction inactive but in place. The request ends without a rollback of its
    own; the next request on this thread (same kept SQLite connection) must still read and write,
    and no transaction may stay open on the driver (it would hold SQLite's write lock)."""
    with app.test_request_context(method="POST"):
        connection = get_connection()
        connection.exec_driver_sql("CREATE TEMP TABLE fk_parent (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql(
            "CREATE TEMP TABLE fk_child (id INTEGER PRIMARY KEY, parent_id INTEGER "
            "REFERENCES fk_parent (id) DEFERRABLE INITIALLY DEFERRED)"
        )
        connection.exec_driver_sql("INSERT INTO fk_child VALUES (1, 42)")
        driver = connection.connection.dbapi_connection
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
    assert not getattr(driver, "in_transaction", False)
    with app.test_request_context(method="POST"):
        _core_insert("after.failed.commit")
        db.session.commit()
    with app.test_request_context():
        assert get_connection().exec_driver_sql("SELECT 1").scalar() == 1
        db.session.rollback()
    assert _committed_actions(app) == ["after.failed.commit"]


def test_a_rollback_after_a_failed_commit_lets_the_same_request_go_on(app):
    """What ``retry_transaction`` does after a failed commit: roll back, then run again."""
    with app.test_request_context(method="POST"):
        connection = get_connection()
        connection.exec_driver_sql("CREATE TEMP TABLE fk_parent2 (id INTEGER PRIMARY KEY)")
        connection.exec_driver_sql(
            "CREATE TEMP TABLE fk_child2 (id INTEGER PRIMARY KEY, parent_id INTEGER "
            "REFERENCES fk_parent2 (id) DEFERRABLE INITIALLY DEFERRED)"
        )
        connection.exec_driver_sql("INSERT INTO fk_child2 VALUES (1, 42)")
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        _core_insert("same.request")
        db.session.commit()
    assert _committed_actions(app) == ["same.request"]


def test_a_connection_lost_after_its_last_statement_does_not_fail_the_end_of_the_request(app):
    """The server ends the connection between the request's last statement and its end (the ORM
    session still holds a transaction): the rollback at the end meets a dead connection. The
    request must end cleanly (no error out of the teardown, which would turn a finished response
    into a 500), and the next request gets a working connection."""
    from scimgate.models import User

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("needs a server that can end a connection")
    with app.test_request_context():
        db.session.scalars(sa.select(User).limit(1)).all()  # the ORM session's transaction begins
        backend = get_connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(backend)})")
    with app.test_request_context():
        _core_insert("after.lost")
        db.session.commit()
    assert _committed_actions(app) == ["after.lost"]


def test_a_test_process_exits_without_a_reset_traceback(database_url):
    """The main thread's kept PostgreSQL connection goes back to the pool at interpreter exit
    (``release_kept_connection``); left to the garbage collector, pytest's exit printed
    "Exception during reset" from a psycopg already torn down. One test run in a child pytest."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the traceback came from psycopg's teardown")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            f"{__file__}::test_core_writes_are_committed_by_the_session_commit",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SCIMGATE_TEST_DATABASE_URL": database_url},
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Exception during reset" not in output and "Traceback" not in output, output
