"""The set-up assistant of the Authentication page: what to enter in the active client's IdP.

The client's plugin answers ``scimgate_setup_guide`` in the IdP's own words (field labels, the
provisioning actions to enable, its quirks); this module adds what only the core knows: the
deployed SCIM base URL, the authentication mode for the scheme in use and the header it sends.
It never holds a secret: the token is shown once when generated, the password never.
"""

from __future__ import annotations

from dataclasses import dataclass

from scimgate.configuration_utils import AuthStatus
from scimgate.hookspecs import GuideField, SetupGuide
from scimgate.plugin_host import ClientHooks

_HEADERS = {
    "bearer": "Authorization: Bearer <the token from Generate Token, shown once>",
    "basic": "Authorization: Basic <base64 of username:password>",
}


@dataclass(frozen=True)
class Assistant:
    """Everything the assistant shows, ready for the template."""

    client: str
    label: str
    where: str
    fields: tuple[GuideField, ...]
    actions: tuple[str, ...]
    quirks: tuple[str, ...]
    doc: str
    scheme: str | None


def chosen_scheme(guide: SetupGuide, auth: AuthStatus) -> str | None:
    """The scheme to set up: one that works now (bearer first), else the first one the client
    accepts and the IdP offers, else None (the client and its IdP share no scheme)."""
    offered = [s for s in auth.accepted if s in guide.auth_modes]
    usable = [s for s in offered if s in auth.usable]
    for candidates in (usable, offered):
        for scheme in ("bearer", "basic"):
            if scheme in candidates:
                return scheme
    return offered[0] if offered else None


def build(hooks: ClientHooks, scim_base_url: str, auth: AuthStatus, basic_username: str | None) -> Assistant:
    """The assistant for ``hooks``' client, deployed at ``scim_base_url``."""
    guide = hooks.setup_guide()
    scheme = chosen_scheme(guide, auth)
    fields = [GuideField(guide.base_url_label, scim_base_url, copyable=True)]
    if scheme is not None:
        others = [guide.auth_modes[s] for s in auth.accepted if s in guide.auth_modes and s != scheme]
        mode = guide.auth_modes[scheme] + (f" (or {', '.join(others)})" if others else "")
        fields.append(GuideField("Authentication mode", mode))
        if scheme == "basic" and basic_username:
            fields.append(GuideField("Username", basic_username, copyable=True))
        if scheme in _HEADERS:
            fields.append(GuideField("Header sent", _HEADERS[scheme]))
    fields.extend(guide.fields)
    return Assistant(
        client=hooks.profile.name,
        label=hooks.profile.label,
        where=guide.where,
        fields=tuple(fields),
        actions=tuple(guide.actions),
        quirks=tuple(guide.quirks),
        doc=guide.doc,
        scheme=scheme,
    )
