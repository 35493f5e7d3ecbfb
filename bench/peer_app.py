"""The reference peer: ``scim2-server`` (PyPI) as a WSGI app, for the same gunicorn as scimgate.

scim2-server's own ``scim2-server`` command serves with ``wsgiref``; its documented way to get a
WSGI callable is ``WSGIApplication(InMemoryStorage(), load_default_provider())``. This module does
that with the bearer-token application its command uses (``--bearer-token``), so the peer checks
a token like scimgate does. Resources live in the worker's memory: serve it with ONE worker
(``-w 1``), otherwise each worker would hold a different directory.

Served as ``gunicorn -c config/gunicorn.conf.py --chdir bench 'peer_app:create_app()'`` with
``PEER_TOKEN`` in the environment; the SCIM base URL is ``http://host:port/v2``.
"""

from __future__ import annotations

import os
import secrets

from scim2_models import ScimProvider
from scim2_server.memory import InMemoryStorage
from scim2_server.service import ScimService
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)


def create_app(token: str | None = None) -> BearerTokenApplication:
    """Build the peer exactly as ``scim2-server --bearer-token TOKEN`` does, minus its HTTP server."""
    config = load_default_service_provider_config()
    config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
    provider = ScimProvider.from_discovery(
        load_default_schemas().values(), load_default_resource_types().values(), config=config
    )
    secret = os.environ.get("SCIM2_SERVER_SECRET") or secrets.token_urlsafe(32)
    try:
        service = ScimService(provider, secret=secret)
    except ModuleNotFoundError:  # cursor pagination needs scim2-server[cursor]; it is off by default
        service = ScimService(provider)
    return BearerTokenApplication(
        InMemoryStorage(), provider, service=service, bearer_tokens=[token or os.environ["PEER_TOKEN"]]
    )
