"""One Identity Manager (SCIM connector, Starling Connect, Active Roles).

One Identity loads the target schema from the discovery endpoints, reads with ``attributes=``
lists and looks resources up with ``id eq "a" or id eq "b"`` filters (IDP-QUIRKS §6); the core
serves all three. Tests: ``tests/plugins/test_one_identity.py``.
"""

from __future__ import annotations

from scimgate.hookspecs import ClientProfile, hookimpl


@hookimpl
def scimgate_register_clients() -> list[ClientProfile]:
    """Serve One Identity."""
    return [ClientProfile("one_identity", "One Identity", "One Identity Manager SCIM connector")]
