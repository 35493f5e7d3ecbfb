"""PingFederate (SCIM Provisioner / outbound provisioning connector), client name ``pingfederate``.

Sources (IDP-QUIRKS §3): user and group management
https://docs.pingidentity.com/integrations/scim/pf_scim_connector_user_and_group_management.html,
settings reference
https://docs.pingidentity.com/integrations/scim/setup/pf_scim_connector_scim_connector_settings_reference.html,
known limitations
https://docs.pingidentity.com/integrations/scim/release_notes/pf_scim_connector_known_issues_and_limitations.html.
Tests: ``tests/plugins/test_pingfederate.py``; captured shapes: ``tests/payloads/pingfederate/``.

The PingFederate quirks the core handles for every client (each tested with ``pingfederate`` active) are
listed in docs/idp/pingfederate.md, "Quirks the core handles": this plugin only registers the client
and its set-up guide.
"""

from __future__ import annotations

from scimgate.hookspecs import ClientProfile, GuideField, SetupGuide, hookimpl


@hookimpl
def scimgate_register_clients() -> list[ClientProfile]:
    """Serve PingFederate."""
    return [ClientProfile("pingfederate", "PingFederate", "PingFederate SCIM outbound provisioning")]


@hookimpl
def scimgate_setup_guide(client: ClientProfile) -> SetupGuide:
    """The SCIM connector's Target screen in PingFederate's words (docs/idp/pingfederate.md, §3)."""
    return SetupGuide(
        where="PingFederate: Applications → SP Connections → your connection → Outbound "
        "Provisioning (SCIM Connector) → Target",
        base_url_label="SCIM URL",
        auth_modes={"bearer": "OAuth 2 Bearer Token", "basic": "Basic Authentication"},
        fields=(
            GuideField("SCIM Version", "2.0", copyable=True),
            GuideField("Unique User Identifier", "userName", copyable=True),
            GuideField("Authorization Header Type", "leave the default (Bearer)"),
            GuideField("Results Per Page", "1000", copyable=True),
            GuideField("Remove User Action", "Disable (the user stays readable) or Delete"),
        ),
        actions=(
            "Provision users and groups in the channel (Manage Channels), then activate the channel",
            "Use PATCH for Group Updates: off (PUT with the full member list; both work)",
        ),
        quirks=(
            "Never choose Authentication Method None.",
            "Users are updated by PUT of the whole user; an omitted active keeps the current state.",
            "Groups are found by listing all groups; each group PUT overwrites its membership.",
            "PingFederate cannot clear a user attribute once it has been set.",
        ),
        doc="docs/idp/pingfederate.md",
    )
