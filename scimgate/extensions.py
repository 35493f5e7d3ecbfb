"""Flask extensions, created unbound and bound to each app in ``create_app`` (no global app)."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from scimgate.db.session import RequestSession

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
# ``app.extensions`` key: ``(path prefix, render)`` pairs for routing errors (404, 405) outside
# /scim/v2, which no blueprint's handler sees; each area adds its own (pages: the site's error page,
# /api/v1: its JSON), and ``api.errors`` asks them, so neither area imports the other.
ROUTING_ERROR_RENDERERS = "scimgate.routing_error_renderers"

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
db = SQLAlchemy(
    model_class=Base,
    session_options={
        "class_": RequestSession,
        "expire_on_commit": False,
        "join_transaction_mode": "control_fully",
    },
)
migrate = Migrate()
