"""SailPoint IdentityIQ and IdentityNow (Identity Security Cloud) SCIM 2.0 connectors.

Both use the one client name ``sailpoint`` (the reference's). What they send (IDP-QUIRKS §4, §5)
is handled by the core: a path-less ``add`` of ``{"active": false}`` (``add`` replaces a
single-valued attribute), one path-less ``replace`` per ``name`` sub-attribute (complex values
merge, never clear the other part), and the discovery endpoints the connectors require.
Tests: ``tests/plugins/test_sailpoint.py``.
"""

from __future__ import annotations

from scimgate.hookspecs import ClientProfile, hookimpl


@hookimpl
def scimgate_register_clients() -> list[ClientProfile]:
    """Serve SailPoint IdentityIQ and IdentityNow."""
    return [
        ClientProfile("sailpoint", "SailPoint", "SailPoint IdentityIQ and IdentityNow SCIM 2.0 connectors")
    ]
