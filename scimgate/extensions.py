"""Flask extensions, created unbound and bound to each app in ``create_app`` (no global app)."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Connection, MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects keep their state after commit: a response shows exactly what this request wrote (not
# a later writer's state), and rendering it needs no second round of SELECTs.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()


_CONNECTION_KEY = "scimgate.connection"


def core() -> Connection:
    """The connection of the current session's transaction, for prebuilt SQL Core statements.

    Executing on it is the same transaction as ``db.session`` but skips the ORM session's work
    per statement (bind lookup, ORM compile state, autoflush): on the SCIM hot paths that was a
    tenth of a request. Only for statements that touch no ORM object with pending changes.

    The connection is remembered in the session's ``info`` with the transaction it belongs to,
    so the several statements of one request skip ``Session.connection()``'s bind resolution
    (3.6 µs a call); a new transaction (after a commit or rollback) asks the session again.
    """
    session = db.session()
    transaction = session.get_transaction()
    held = session.info.get(_CONNECTION_KEY)
    if transaction is not None and held is not None and held[0] is transaction:
        return held[1]  # type: ignore[no-any-return]
    connection = session.connection()
    session.info[_CONNECTION_KEY] = (session.get_transaction(), connection)
    return connection
