"""The SCIM client and set-up every SCIM test uses: ``scimgate.testing``'s, with this suite's IdP.

The suite configures SAML with its own IdP metadata (``tests/data``), which the SAML tests sign
responses for; a plugin's tests use ``scimgate.testing`` directly with the development IdP.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from scimgate.testing import client as testing_client
from scimgate.testing.client import SCIM_PREFIX, ScimClient

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SP_ENTITY_ID = "https://scimgate.test/saml/metadata"

__all__ = ["DATA_DIR", "SCIM_PREFIX", "ScimClient", "configure_scim"]


def configure_scim(app: Flask, client_name: str = "okta") -> dict[str, str]:
    """Run the reference's set-up through the real functions; return Bearer auth headers."""
    return testing_client.configure_scim(
        app,
        client_name,
        idp_metadata=(DATA_DIR / "idp-metadata.xml").read_text(),
        sp_entity_id=SP_ENTITY_ID,
    )
