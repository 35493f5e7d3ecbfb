"""The core's own behaviour, written as an ordinary plugin that runs after every other one."""

from __future__ import annotations

from scimgate.hookspecs import ClientProfile, GuideField, SetupGuide, hookimpl

ALL_SCHEMES = ["bearer", "basic"]


@hookimpl(trylast=True)
def scimgate_auth_schemes(client: ClientProfile) -> list[str]:
    """Both Bearer and Basic, when the client's plugin does not say otherwise."""
    return list(ALL_SCHEMES)


@hookimpl(trylast=True)
def scimgate_normalize_filter(filter_expr: str) -> str:
    """Keep the filter as sent."""
    return filter_expr


@hookimpl(trylast=True)
def scimgate_setup_guide(client: ClientProfile) -> SetupGuide:
    """A generic RFC 7644 guide for a client whose plugin brings none (e.g. a bare client name)."""
    return SetupGuide(
        where=f"{client.label}: the SCIM 2.0 provisioning (outbound connector) settings",
        base_url_label="SCIM base URL",
        auth_modes={"bearer": "Bearer token", "basic": "Basic authentication"},
        fields=(GuideField("Unique identifier for users", "userName", copyable=True),),
        actions=("Create users", "Update user attributes", "Deactivate users", "Push groups"),
        quirks=(
            "scimgate stores userName, name, one email, displayName and active; other attributes "
            "are accepted and ignored.",
            "Sign-in is SAML: do not synchronize passwords.",
        ),
        doc="docs/scim-behaviour.md",
    )
