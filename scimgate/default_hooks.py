"""The core's own behaviour, written as an ordinary plugin that runs after every other one."""

from __future__ import annotations

from scimgate.hookspecs import ClientProfile, hookimpl

ALL_SCHEMES = ["bearer", "basic"]


@hookimpl(trylast=True)
def scimgate_auth_schemes(client: ClientProfile) -> list[str]:
    """Both Bearer and Basic, when the client's plugin does not say otherwise."""
    return list(ALL_SCHEMES)


@hookimpl(trylast=True)
def scimgate_normalize_filter(filter_expr: str) -> str:
    """Keep the filter as sent."""
    return filter_expr
