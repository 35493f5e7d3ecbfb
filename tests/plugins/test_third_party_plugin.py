"""A third-party plugin (``examples/scimgate-onelogin``) discovered, selected and used end to end.

The example is installed into the running venv through pip, exactly as an admin would install a
plugin; it is found through the ``scimgate`` entry-point group by a *fresh* app, selected with the
CLI (``scimgate scim set-client onelogin``) against a database created by ``scimgate init-db``,
and then driven over HTTP. Nothing in the core names OneLogin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from scimgate import create_app
from scimgate.configuration_utils import get_scim_client
from scimgate.extensions import db
from scimgate.plugin_host import get_host
from tests.support.plugins import (
    active_client,
    check_setup_guide_against_its_doc,
    ensure_example_installed,
    patch_body,
    stored_group,
    stored_user,
)
from tests.support.scim import ScimClient, configure_scim

SCIMGATE = Path(sys.executable).with_name("scimgate")
CLIENT = "onelogin"
SCIM1_CORE = "urn:scim:schemas:core:1.0"


def _cli(args: list[str], database_url: str, cwd: Path) -> str:
    """Run the real ``scimgate`` console script against ``database_url``."""
    env = {**os.environ, "SCIMGATE_DATABASE_URL": database_url, "SCIMGATE_CONFIG": "default"}
    result = subprocess.run([str(SCIMGATE), *args], env=env, cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"scimgate {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture
def onelogin_app(tmp_path: Path) -> Iterator[Flask]:
    """Install the plugin, create a database with the CLI, select ``onelogin`` with the CLI, and
    build a fresh app on that database (so the entry point is discovered at start-up)."""
    ensure_example_installed(tmp_path)
    database_url = f"sqlite:///{tmp_path / 'onelogin.db'}"
    _cli(["init-db"], database_url, tmp_path)
    _cli(["scim", "set-client", CLIENT], database_url, tmp_path)
    listed = {p["name"]: p for p in json.loads(_cli(["plugins", "--json"], database_url, tmp_path))}
    assert listed[CLIENT]["clients"] == [CLIENT]
    assert "scimgate_normalize_request" in listed[CLIENT]["hooks"]

    app = create_app(
        "testing",
        overrides={"SQLALCHEMY_DATABASE_URI": database_url, "LOG_DIR": str(tmp_path / "logs")},
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_onelogin_plugin_is_discovered_selected_and_used_end_to_end(onelogin_app: Flask):
    """``onelogin.scimgate_register_clients`` (the CLI accepts the name), then
    ``onelogin.scimgate_normalize_request`` and ``onelogin.scimgate_auth_schemes`` over HTTP."""
    app = onelogin_app
    host = get_host(app)
    assert host.manager.get_name(host.served_by[CLIENT]) == CLIENT
    with app.app_context():
        assert get_scim_client() == CLIENT, "set by `scimgate scim set-client onelogin`"
    scim = ScimClient(app.test_client(), configure_scim(app, CLIENT))

    # Core Schema template: SCIM 1.x URN and a templated string "active" (scimgate_normalize_request)
    created = scim.post(
        "/Users",
        json={
            "schemas": [SCIM1_CORE],
            "userName": "ol.user@example.com",
            "name": {"givenName": "One", "familyName": "Login", "formatted": "One Login"},
            "emails": [{"value": "ol.user@example.com", "type": "work", "primary": True}],
            "active": "true",
            "id": None,
        },
    )
    assert created.status_code == 201, created.get_json()
    user = created.get_json()
    assert user["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User"]
    assert user["active"] is True

    replaced = scim.put(
        f"/Users/{user['id']}",
        json={
            "schemas": [SCIM1_CORE],
            "userName": "ol.user@example.com",
            "name": {"givenName": "Uno"},
            "active": "false",
        },
    )
    assert replaced.status_code == 200 and replaced.get_json()["active"] is False

    group = scim.post("/Groups", json={"schemas": [SCIM1_CORE], "displayName": "OneLogin Role"}).get_json()
    add = patch_body({"op": "add", "path": "members", "value": [{"value": user["id"]}]})
    assert scim.patch(f"/Groups/{group['id']}", json=add).status_code == 200

    stored = stored_user(app, user["id"])
    assert stored is not None
    assert (stored.first_name, stored.is_active, stored.client) == ("Uno", False, CLIENT)
    assert stored_group(app, group["id"]) == ("OneLogin Role", {user["id"]})

    # scimgate_auth_schemes: OneLogin configures a bearer token only.
    assert host.hooks_for(CLIENT).auth_schemes() == ("bearer",)
    assert scim.get("/Users", headers={"Authorization": "Basic b2w6cGFzcw=="}).status_code == 401


def test_without_the_plugin_the_core_refuses_the_scim1_urn(app):
    """Contrast: with ``okta`` active the RFC-exact core answers 400 to OneLogin's template body,
    which is why the quirk belongs in the OneLogin plugin."""
    scim = active_client(app, "okta")
    response = scim.post("/Users", json={"schemas": [SCIM1_CORE], "userName": "x", "active": "true"})
    assert response.status_code == 400


def test_onelogin_brings_its_own_setup_guide(onelogin_app: Flask):
    """``onelogin.scimgate_setup_guide``: a third-party plugin's assistant values (its README's words)."""
    guide = check_setup_guide_against_its_doc(get_host(onelogin_app), CLIENT)
    assert guide.base_url_label == "SCIM Base URL"
    assert guide.auth_modes == {"bearer": "SCIM Bearer Token"}
    assert guide.doc == "examples/scimgate-onelogin/README.md"
