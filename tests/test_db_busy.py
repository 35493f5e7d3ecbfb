"""No pooled connection free in time (the database starved by load) is a 503 with ``Retry-After``
in every area's own shape, never a 500; the request after it is served. The app has a SQLite
file of its own with a one-connection pool (the pool behaves the same for every database),
so it runs in the SQLite pass of ``scripts/test`` only."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from scimgate import create_app
from scimgate.extensions import db
from scimgate.scim import urns
from tests.support.scim import configure_scim

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SCIMGATE_TEST_DATABASE_URL")),
    reason="runs in the SQLite pass only: it makes a SQLite file of its own",
)


@pytest.fixture
def one_connection_app(tmp_path: Path) -> Iterator[Flask]:
    """An app whose pool holds one connection and waits 0.2 s for it."""
    app = create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'pool.db'}",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2},
            "LOG_DIR": str(tmp_path),
        },
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _starved(app: Flask, path: str, **kwargs: Any) -> Any:
    """The response to one request made while the pool's only connection is taken."""
    result = {}

    def request() -> None:  # a thread of its own: no connection kept from an earlier request
        result["response"] = app.test_client().open(path, **kwargs)

    with app.app_context():
        holder = db.engine.connect()  # the pool's only connection
    try:
        worker = threading.Thread(target=request)
        worker.start()
        worker.join(timeout=30)
    finally:
        holder.close()
    return result["response"]


def test_no_free_connection_is_503_busy_for_scim_the_api_and_pages(one_connection_app: Flask) -> None:
    configured: dict[str, str] = {}
    setup = threading.Thread(target=lambda: configured.update(configure_scim(one_connection_app)))
    setup.start()  # a thread of its own: the connection it keeps goes back to the pool with it
    setup.join()
    headers = configured
    scim = _starved(one_connection_app, "/scim/v2/Users", headers=headers)
    assert scim.status_code == 503, scim.get_data(as_text=True)
    body = scim.get_json()
    assert body["schemas"] == [urns.ERROR] and body["status"] == "503"
    assert body["detail"] == "The database is busy; retry the request."
    assert scim.headers["Retry-After"] == "2"

    page = _starved(one_connection_app, "/login")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "busy" in page.get_data(as_text=True)

    api = _starved(one_connection_app, "/api/v1/signup", method="POST", json={"username": "x"})
    assert api.status_code == 503, api.get_data(as_text=True)
    assert api.get_json()["error"] == "database_busy" and api.headers["Retry-After"] == "2"

    ready = _starved(one_connection_app, "/readyz")
    assert ready.status_code == 503

    assert one_connection_app.test_client().get("/scim/v2/Users", headers=headers).status_code == 200
