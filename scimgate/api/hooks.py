"""The active client's plugin hooks, looked up once per request (the client: ``conf.scim``)."""

from __future__ import annotations

from flask import Response

from scimgate.api.responses import scim_json
from scimgate.conf.scim import get_scim_client
from scimgate.db.request_state import current_state
from scimgate.hookspecs import ScimResponse
from scimgate.plugin_host import ClientHooks, get_host


def active_hooks() -> ClientHooks:
    """Hooks of the client configured now (read per request, so a switch applies everywhere)."""
    state = current_state()
    if state is None:
        return get_host().hooks_for(get_scim_client())
    if state.hooks is None:
        state.hooks = get_host().hooks_for(get_scim_client())
    hooks: ClientHooks = state.hooks
    return hooks


def respond(resource_type: str, action: str, response: ScimResponse) -> Response:
    """Let the client's plugins tune a successful response, then serialize it."""
    active_hooks().tune_response(resource_type, action, response)
    if response.body is None:
        out = Response(status=response.status)
        out.headers.update(response.headers)
        return out
    return scim_json(response.body, response.status, response.headers)
