"""Okta (OIN SCIM 2.0 template apps and App Integration Wizard apps).

Okta's requests are handled by the core's safe readings, each with a test under
``tests/plugins/test_okta.py``:
- path-less ``replace`` of ``active`` (IDP-QUIRKS §1 "Deactivate / reactivate");
- group rename by a path-less replace that carries the read-only ``id`` (§1 "Rename group");
- one PATCH that removes a possibly non-member by ``members[value eq ...]`` and adds (§1 "Membership");
- ``replace`` of ``members`` with the full list, and PUT of the whole user with ``groups: []``,
  ``meta`` and ``password`` (§1 "Update profile").
Okta accepts Basic and Bearer (the reference: "Okta supports both basic authentication and token
authentication"), which is the core default, so this plugin only registers the client.
"""

from __future__ import annotations

from scimgate.hookspecs import ClientProfile, hookimpl


@hookimpl
def scimgate_register_clients() -> list[ClientProfile]:
    """Serve the reference's default client."""
    return [ClientProfile("okta", "Okta", "Okta SCIM 2.0 (OIN template and App Integration Wizard apps)")]
