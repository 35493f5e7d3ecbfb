"""PingFederate (SCIM outbound provisioning connector).

PingFederate updates users and groups by PUT with the full object and member list, may send the
same address twice flagged primary, lists groups without a filter in pages of up to 1000 and
looks users up with ``emails eq "..."`` (IDP-QUIRKS §3). The core covers each of these: PUT keeps
``active`` when omitted, several primaries are tolerated, ``filter.maxResults`` is 1000 and
``emails eq`` compares ``emails.value``. Tests: ``tests/plugins/test_pingfederate.py``.
"""

from __future__ import annotations

from scimgate.hookspecs import ClientProfile, hookimpl


@hookimpl
def scimgate_register_clients() -> list[ClientProfile]:
    """Serve PingFederate."""
    return [ClientProfile("pingfederate", "PingFederate", "PingFederate SCIM outbound provisioning")]
