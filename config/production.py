"""Settings for production: the database URL and secret key must come from the environment."""

from __future__ import annotations

from scimgate_config.default import DefaultConfig


class ProductionConfig(DefaultConfig):
    """Pre-ping pooled connections so a restarted PostgreSQL does not surface as a 500."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
