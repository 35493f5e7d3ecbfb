"""A configured SCIM service and an HTTP client for it, built through the real set-up functions.

Tests set SCIM up the way ``scimgate scim ...`` does (SAML configured and on, a client selected, a
bearer token generated, sync enabled), so what they exercise is what a deployment runs.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from scimgate import configuration_utils as cu
from scimgate.signin import dev_idp

SCIM_PREFIX = "/scim/v2"
BASE_URL = "http://localhost"


def configure_scim(
    app: Flask,
    client_name: str = "okta",
    *,
    idp_metadata: str | None = None,
    sp_entity_id: str | None = None,
    base_url: str = BASE_URL,
) -> dict[str, str]:
    """Configure SAML (the development IdP unless ``idp_metadata`` is given), select
    ``client_name``, generate a six-month bearer token and enable sync; return Bearer headers."""
    with app.app_context():
        cu.configure_saml(
            idp_metadata=idp_metadata if idp_metadata is not None else dev_idp.idp_metadata(base_url),
            sp_entity_id=sp_entity_id or f"{base_url}/saml/metadata",
            base_url=base_url,
        )
        cu.enable_saml()
        cu.update_scim_client(client_name)
        token = cu.generate_scim_bearer_token(6)
        cu.enable_scim_user_and_group_sync()
    return {"Authorization": f"Bearer {token}"}


class ScimClient:
    """Test client that prefixes ``/scim/v2``, authenticates and sends SCIM JSON."""

    def __init__(self, client: FlaskClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def _call(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if "json" in kwargs:
            headers.setdefault("Content-Type", "application/scim+json")
        url = path if path.startswith(SCIM_PREFIX) else SCIM_PREFIX + path
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self._call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self._call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self._call("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self._call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self._call("DELETE", path, **kwargs)


def active_client(app: Flask, client_name: str, **setup: Any) -> ScimClient:
    """Configure SCIM for ``client_name`` and return an authenticated client (``setup`` goes to
    :func:`configure_scim`)."""
    return ScimClient(app.test_client(), configure_scim(app, client_name, **setup))
