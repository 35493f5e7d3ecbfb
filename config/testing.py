"""Settings for the test suite (the database URL comes from the fixtures)."""

from __future__ import annotations

from scimgate_config.default import DefaultConfig


class TestingConfig(DefaultConfig):
    """In-tree test settings (and ``scimgate.testing``'s app): real argon2id hashes at the cheapest
    cost, so the suite's thousands of password hashes take microseconds, not 50 ms each."""

    TESTING = True
    DEV_IDP_ENABLED = True
    SESSION_COOKIE_SECURE = False
    SECRET_KEY = "testing-secret-key-not-for-production"
    # Added to the sessions' clock (seconds) so tests reach lifetime and idle limits without
    # sleeping; honoured only by a TESTING app.
    SESSION_CLOCK_OFFSET_SECONDS = 0
    # argon2's minimum: one pass over 8 KiB in one lane (production keeps DefaultConfig's).
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
