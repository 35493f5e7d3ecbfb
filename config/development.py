"""Settings for a developer's machine: the README's run command uses these."""

from __future__ import annotations

from scimgate_config.default import DefaultConfig


class DevelopmentConfig(DefaultConfig):
    """SQLite, plain-HTTP cookies on localhost and the development SAML IdP."""

    DEV_IDP_ENABLED = True
    SESSION_COOKIE_SECURE = False
