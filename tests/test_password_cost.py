"""Password hashes cost what the configuration says: every deployment class keeps argon2's real
parameters, the test suite (and ``scimgate.testing``'s app) the cheapest; each verifies the other's.

The parameters are read back from the stored hashes themselves (``$argon2id$v=19$m=..,t=..,p=..$``),
made through the real set-up functions, not from the settings alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask

from scimgate import configuration_utils as cu
from scimgate import create_app
from scimgate.accounts import users
from scimgate.conf import credentials
from scimgate.conf import keys as K
from scimgate.conf import store as conf_store
from scimgate_config import load_config
from tests.support.config import PASSWORD
from tests.support.signin import ADMIN_PASSWORD

REAL = "$argon2id$v=19$m=65536,t=3,p=4$"
CHEAP = "$argon2id$v=19$m=8,t=1,p=1$"


def _production_app(app: Flask, tmp_path: Path) -> Flask:
    """A ``production`` app on the test database (emptied after each test like the suite's own)."""
    return create_app(
        "production",
        overrides={
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SQLALCHEMY_ENGINE_OPTIONS": app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "LOG_DIR": str(tmp_path / "logs"),
            "SECRET_KEY": "x" * 32,
        },
    )


def _stored_hashes(app: Flask, username: str) -> tuple[str, str]:
    """The SCIM basic-auth password hash and a new built-in account's hash, as stored."""
    with app.app_context():
        cu.set_scim_basic_auth_password(PASSWORD)
        account = users.create_builtin_admin(username, ADMIN_PASSWORD)
        return conf_store.get(K.BASIC_PASSWORD_HASH), account.password_hash


@pytest.mark.parametrize("name", ["default", "production", "development"])
def test_every_deployment_class_keeps_the_real_parameters(name: str) -> None:
    config = load_config(name, environ={})
    real = (config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"], config["ARGON2_PARALLELISM"])
    assert real == (3, 65536, 4)
    library = PasswordHasher()  # argon2-cffi's defaults, RFC 9106's low-memory profile
    assert real == (library.time_cost, library.memory_cost, library.parallelism)


def test_production_stores_real_hashes_and_testing_cheap_ones(app: Flask, tmp_path: Path) -> None:
    production = _production_app(app, tmp_path)
    real = _stored_hashes(production, "real-admin")
    assert all(h.startswith(REAL) for h in real), real
    cheap = _stored_hashes(app, "cheap-admin")
    assert all(h.startswith(CHEAP) for h in cheap), cheap
    with app.app_context():
        assert credentials.hash_password("x").startswith(CHEAP)


def test_a_hash_keeps_its_parameters_so_a_change_locks_nobody_out(app: Flask, tmp_path: Path) -> None:
    production = _production_app(app, tmp_path)
    with production.app_context():
        users.create_builtin_admin("made-in-production", ADMIN_PASSWORD)
    with app.app_context():
        users.create_builtin_admin("made-in-testing", ADMIN_PASSWORD)
    for checker in (app, production):
        with checker.app_context():
            for username in ("made-in-production", "made-in-testing"):
                assert users.check_password(username, ADMIN_PASSWORD) is not None
                assert users.check_password(username, ADMIN_PASSWORD + "x") is None
