"""The plugin's tests run on scimgate's own pytest plugin (``scimgate.testing``, loaded through
its ``pytest11`` entry point when scimgate is installed): a fresh app per test, SCIM configured as
an administrator would, and the replay runner. Here only the client under test is chosen."""

from __future__ import annotations

import pytest
from scimgate_onelogin import CLIENT


@pytest.fixture
def scimgate_client_name() -> str:
    """``scimgate_scim`` selects this plugin's client (``scimgate scim set-client onelogin``)."""
    return CLIENT
