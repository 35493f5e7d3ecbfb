"""One Identity Manager (SCIM connector, Starling Connect, Active Roles), client ``one_identity``.

Sources (IDP-QUIRKS §6): cloud applications guide, SCIM project template
https://support.oneidentity.com/technical-documents/identity-manager/8.2/administration-guide-for-connecting-to-cloud-applications/23,
Starling Connect connector
https://support.oneidentity.com/technical-documents/identity-manager/9.1/administration-guide-for-connecting-to-starling-connect-using-starling-connect-connector/3,
and jelhub/scimgateway:README.md ("advanced or-filter (e.g., used by One Identity Manager)").
Tests: ``tests/plugins/test_one_identity.py``; captured shapes: ``tests/payloads/one_identity/``.

The One Identity quirks the core handles for every client (each tested with ``one_identity`` active) are
listed in docs/idp/one_identity.md, "Quirks the core handles": this plugin only registers the client
and its set-up guide.
"""

from __future__ import annotations

from scimgate.hookspecs import ClientProfile, GuideField, SetupGuide, hookimpl


@hookimpl
def scimgate_register_clients() -> list[ClientProfile]:
    """Serve One Identity."""
    return [ClientProfile("one_identity", "One Identity", "One Identity Manager SCIM connector")]


@hookimpl
def scimgate_setup_guide(client: ClientProfile) -> SetupGuide:
    """The SCIM connector wizard in One Identity Manager's words (docs/idp/one_identity.md, §6)."""
    return SetupGuide(
        where="One Identity Manager Synchronization Editor: Create a new synchronization project → "
        "SCIM (Universal Cloud Interface) connector",
        base_url_label="SCIM URL / Base address",
        auth_modes={"bearer": "OAuth 2.0 with a static bearer token", "basic": "Basic"},
        fields=(
            GuideField("Schema endpoint", "/Schemas", copyable=True),
            GuideField("Resources endpoint", "/ResourceTypes", copyable=True),
            GuideField("Supported service options", "/ServiceProviderConfig", copyable=True),
            GuideField("Unique identifier (UCIUser)", "userName", copyable=True),
        ),
        actions=(
            "Workflow: insert, update and delete for UCIUser and UCIGroup",
            "Run a full synchronization first, then provisioning of single changes",
        ),
        quirks=(
            "The Test button validates /Schemas, /ResourceTypes and /ServiceProviderConfig.",
            "Deleting a UCIUser sends DELETE /Users/{id}: map active instead if accounts must stay.",
            "Update and membership shapes are not documented publicly: scimgate serves RFC 7644 shapes.",
        ),
        doc="docs/idp/one_identity.md",
    )
