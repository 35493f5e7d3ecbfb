"""The OneLogin plugin against a real scimgate app: its documented request sequence replayed, and
each quirk it handles checked on its own (see the module docstring of ``scimgate_onelogin``).

Run from this directory with scimgate and this plugin installed: ``python -m pytest tests``.
"""

from __future__ import annotations

import base64
from pathlib import Path

from scimgate_onelogin import CLIENT, SCIM1_CORE, SCIM2_CORE

from scimgate.testing.client import ScimClient

PAYLOADS = Path(__file__).resolve().parent / "payloads"


def test_core_schema_lifecycle_replays(scimgate_replay) -> None:
    scim, outcome = scimgate_replay(
        PAYLOADS / "core_schema_lifecycle.json",
        {"user_name": "ol.user@example.com", "group_name": "OneLogin Admins"},
    )
    user = scim.get(f"/Users/{outcome.variables['user_id']}").get_json()
    assert user["active"] is True
    assert user["schemas"] == [SCIM2_CORE["User"]]


def test_the_plugin_serves_its_client(scimgate_scim: ScimClient) -> None:
    config = scimgate_scim.get("/ServiceProviderConfig")
    assert config.status_code == 200
    schemes = {scheme["type"] for scheme in config.get_json()["authenticationSchemes"]}
    assert schemes == {"oauthbearertoken"}, f"{CLIENT} authenticates with a bearer token only"


def test_a_one_and_zero_active_value_is_read_as_a_boolean(scimgate_scim: ScimClient) -> None:
    body = {"schemas": [SCIM1_CORE], "userName": "zero@example.com", "active": "0"}
    created = scimgate_scim.post("/Users", json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["active"] is False


def test_basic_authentication_is_refused(scimgate_scim: ScimClient) -> None:
    basic = base64.b64encode(b"someone:some-password").decode()
    response = scimgate_scim.client.get("/scim/v2/Users", headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 401
