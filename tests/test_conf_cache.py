"""The per-process configuration cache: read once, re-read only when the version token moves.

A second app instance on the same database stands in for another worker or node: what it
writes must be seen by the first app's very next request, never a cached copy.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from scimgate import configuration_utils as cu
from scimgate import create_app
from scimgate.conf import store as conf_store
from scimgate.extensions import db
from scimgate.models import ConfVersion
from tests.support.sql_counter import count_statements, touching

SPC = "/scim/v2/ServiceProviderConfig"


@pytest.fixture
def other_app(app: Flask) -> Iterator[Flask]:
    """Another instance of scimgate on the same database (another worker, another node)."""
    other = create_app("testing", overrides={k: app.config[k] for k in _SHARED_SETTINGS})
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


_SHARED_SETTINGS = ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "LOG_DIR", "SECRET_KEY")


def _conf_reads(statements: list[str]) -> list[str]:
    return [s for s in touching(statements, "scimgate_conf") if "scimgate_conf_version" not in s]


def test_unchanged_configuration_is_not_read_again(app: Flask, scim) -> None:
    assert scim.get("/ServiceProviderConfig").status_code == 200
    with count_statements(app) as statements:
        assert scim.get("/ServiceProviderConfig").status_code == 200
        assert scim.get("/Users").status_code == 200
    assert _conf_reads(statements) == []


def test_a_change_by_another_instance_is_seen_by_the_next_request(app: Flask, scim, other_app: Flask) -> None:
    assert scim.get("/ServiceProviderConfig").status_code == 200  # cached now
    with other_app.app_context():
        cu.disable_sync_from_directory_provider()
    with count_statements(app) as statements:
        refused = scim.get("/Users")
    assert refused.status_code == 403
    assert "SCIM sync is disabled" in refused.get_json()["detail"]
    assert len(_conf_reads(statements)) == 1  # re-read once, because the token moved
    with other_app.app_context():
        cu.enable_scim_user_and_group_sync()
    assert scim.get("/Users").status_code == 200


def test_a_replaced_token_is_refused_at_once_by_every_instance(app: Flask, scim, other_app: Flask) -> None:
    assert scim.get("/Users").status_code == 200
    with other_app.app_context():
        new_token = cu.generate_scim_bearer_token(1)
    assert scim.get("/Users").status_code == 401
    assert scim.client.get(SPC, headers={"Authorization": f"Bearer {new_token}"}).status_code == 200


def test_without_a_token_row_nothing_is_remembered(app: Flask, scim) -> None:
    """A database whose version row was removed by hand is read afresh on every request."""
    with app.app_context():
        db.session.query(ConfVersion).delete()
        db.session.commit()
    assert scim.get("/Users").status_code == 200
    with count_statements(app) as statements:
        assert scim.get("/Users").status_code == 200
    assert len(_conf_reads(statements)) == 1
    with app.app_context():
        cu.disable_sync_from_directory_provider()  # writing brings the token back
        assert db.session.get(ConfVersion, 1) is not None
    assert scim.get("/Users").status_code == 403


def test_every_write_replaces_the_token(app: Flask) -> None:
    with app.app_context():
        conf_store.put("scim.sync_enabled", False)
        first = db.session.get(ConfVersion, 1).token
        db.session.rollback()
        conf_store.put("scim.sync_enabled", False)  # even a write that changes nothing
        assert db.session.get(ConfVersion, 1).token != first
