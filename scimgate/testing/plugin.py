"""pytest fixtures for testing scimgate and its plugins against a real app (``pytest11`` entry point).

Installing scimgate makes these fixtures available to any pytest run; they do nothing until a
test asks for one. Every name starts with ``scimgate_`` so a project's own ``app``, ``client`` or
``db`` fixtures are never shadowed.

- ``scimgate_app``: a ``testing`` app on a fresh SQLite file (schema created), one per test, so a
  plugin's tests cannot leak state into each other. Override ``scimgate_config_overrides`` to
  change settings.
- ``scimgate_scim``: an authenticated SCIM client, set up for ``scimgate_client_name`` (default
  ``okta``; a plugin overrides that fixture with its own client name).
- ``scimgate_replay``: replays a payload file (or an already loaded sequence) with its client
  active; see ``scimgate.testing.replay`` for the file format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from scimgate import create_app
from scimgate.extensions import db
from scimgate.logs import activity
from scimgate.testing.client import ScimClient, active_client
from scimgate.testing.replay import Replay, load, replay_sequence

Replayer = Callable[..., tuple[ScimClient, Replay]]


@pytest.fixture
def scimgate_config_overrides() -> dict[str, Any]:
    """Settings given to ``create_app`` on top of the ``testing`` class (none by default)."""
    return {}


@pytest.fixture
def scimgate_app(
    tmp_path_factory: pytest.TempPathFactory, scimgate_config_overrides: dict[str, Any]
) -> Iterator[Flask]:
    """A testing app whose database is a new SQLite file (tables created, no migrations run)."""
    base = tmp_path_factory.mktemp("scimgate")
    app = create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{base / 'scimgate.db'}",
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "LOG_DIR": str(base / "logs"),
            **scimgate_config_overrides,
        },
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        activity.flush(app)  # queued activity rows land before the database goes away
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def scimgate_client_name() -> str:
    """The SCIM client ``scimgate_scim`` selects; a plugin's tests override it with their client."""
    return "okta"


@pytest.fixture
def scimgate_scim(scimgate_app: Flask, scimgate_client_name: str) -> ScimClient:
    """An authenticated SCIM client (bearer token) against a fully configured ``scimgate_app``."""
    return active_client(scimgate_app, scimgate_client_name)


@pytest.fixture
def scimgate_replay(scimgate_app: Flask) -> Replayer:
    """``replay(source, variables=None)``: replay a payload file (path) or a loaded sequence (dict)
    against ``scimgate_app`` with the sequence's client active; returns ``(scim_client, outcome)``.
    A step that does not get the expected response raises ``ReplayError`` naming the step."""

    def replay(
        source: Path | str | dict[str, Any], variables: dict[str, Any] | None = None
    ) -> tuple[ScimClient, Replay]:
        sequence = source if isinstance(source, dict) else load(Path(source))
        return replay_sequence(scimgate_app, sequence, variables)

    return replay
