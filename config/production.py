"""Settings for production: the database URL and secret key must come from the environment."""

from __future__ import annotations

from scimgate_config.default import DefaultConfig


class ProductionConfig(DefaultConfig):
    """No liveness ping per checkout (it cost every request a round trip): a connection that died
    with a restarted PostgreSQL or PgBouncer fails its first statement, SQLAlchemy then discards
    every pooled connection opened before it, and that one request is a 503 with Retry-After
    (scimgate.api.db_faults); the next gets a fresh connection. Connections are also replaced after
    an hour, so none outlives a pooler's or firewall's idle limit by much."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": 3600}
