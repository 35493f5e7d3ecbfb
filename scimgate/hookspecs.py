"""Every hook a scimgate plugin can implement, in one place (prefix ``scimgate_``).

Calling rules: hooks are called with keyword arguments; an implementation may accept fewer
arguments than the spec. For each request only the *active* client's plugins run, plus the
client-independent plugins (those whose ``scimgate_register_clients`` returns nothing), and the
core's own defaults (``scimgate.default_hooks``), which are registered to run last.
New arguments are only ever appended, so existing plugins keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pluggy

PROJECT = "scimgate"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# What a request is doing, as passed in ``action``.
ACTIONS = ("create", "replace", "patch", "delete", "get", "list", "search")


@dataclass(frozen=True)
class ClientProfile:
    """A SCIM client (identity provider) a plugin serves; ``name`` is what admins configure."""

    name: str
    label: str
    description: str = ""


@dataclass
class ScimResponse:
    """A SCIM response before serialization: plugins may change status, body and headers.

    ``body`` None means an empty body (e.g. 204).
    """

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GuideField:
    """One value the admin enters in the IdP's console, under the IdP's own label."""

    label: str
    value: str
    copyable: bool = False  # a literal value (offered with a Copy button), not an instruction


@dataclass(frozen=True)
class SetupGuide:
    """What to enter in the IdP's console for this client, in the IdP's own words.

    The core fills in what only it knows: the deployed SCIM base URL goes under
    ``base_url_label``, and the authentication rows come from ``auth_modes`` (scheme → the
    IdP's name for that mode, e.g. ``{"bearer": "HTTP Header"}``) for the scheme in use, with the
    header it produces. ``fields`` are the other values (e.g. the unique identifier field),
    ``actions`` the provisioning actions to enable, ``quirks`` short sentences, ``doc`` the page
    that says more (``docs/idp/okta.md``). Never put a secret here: the page shows it to admins.
    """

    where: str
    base_url_label: str
    auth_modes: dict[str, str]
    fields: tuple[GuideField, ...] = ()
    actions: tuple[str, ...] = ()
    quirks: tuple[str, ...] = ()
    doc: str = ""


@hookspec
def scimgate_register_clients() -> list[ClientProfile]:
    """Return the clients this plugin serves; called once per app at start-up.

    A plugin that returns no client is client-independent: its other hooks run for every client.
    A name may be served by one plugin only; ``update_scim_client`` accepts every name returned.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def scimgate_auth_schemes(client: ClientProfile) -> list[str] | None:
    """Return the Authorization schemes (``"bearer"``, ``"basic"``) the client may use.

    The first non-None answer wins; the core default allows both. A refused scheme is a 401
    whose reason (``scheme not allowed``) goes to scim-info.log. Asked once per client in each
    process and remembered: answer from the profile alone.
    """
    raise NotImplementedError


@hookspec
def scimgate_normalize_request(client: ClientProfile, resource_type: str, action: str, payload: Any) -> None:
    """Rewrite a parsed request body in place into RFC 7644 shape, before any validation.

    ``resource_type`` is ``User``, ``Group`` or ``*`` (root search); ``action`` is ``create``,
    ``replace``, ``patch`` or ``search``. ``payload`` is the private, parsed JSON body (any JSON
    type: implementations must tolerate malformed shapes and leave their rejection to the core).
    Every implementation runs, in pluggy order (last registered first).
    """


@hookspec(firstresult=True)
def scimgate_normalize_filter(client: ClientProfile, resource_type: str, filter_expr: str) -> str | None:
    """Return a rewritten filter string, or None to keep it; the first non-None answer wins."""


@hookspec
def scimgate_tune_response(
    client: ClientProfile, resource_type: str, action: str, response: ScimResponse
) -> None:
    """Adjust a successful response (status, body, headers) the way the client expects.

    Called for every successful SCIM resource response, after the core built it; every
    implementation runs. Errors are not tuned: they stay exactly RFC 7644 §3.12.
    """


@hookspec(firstresult=True)
def scimgate_setup_guide(client: ClientProfile) -> SetupGuide | None:
    """Return what to enter in the client's IdP console (the Authentication page's assistant).

    The first non-None answer wins; the core default is a generic RFC 7644 guide, so a client
    whose plugin has none still gets one. Answer from the profile alone: the core adds the
    deployed base URL and the authentication header (never a secret) itself.
    """
    raise NotImplementedError
