"""Settings for the test suite (the database URL comes from the fixtures)."""

from __future__ import annotations

from scimgate_config.default import DefaultConfig


class TestingConfig(DefaultConfig):
    """In-tree test settings: fast password hashing is NOT used; tests exercise the real hashes."""

    TESTING = True
    DEV_IDP_ENABLED = True
    SESSION_COOKIE_SECURE = False
    SECRET_KEY = "testing-secret-key-not-for-production"
    # Added to the sessions' clock (seconds) so tests reach lifetime and idle limits without
    # sleeping; honoured only by a TESTING app.
    SESSION_CLOCK_OFFSET_SECONDS = 0
