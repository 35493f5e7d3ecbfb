"""``POST /.search`` across every resource type (RFC 7644 §3.4.3), and the endpoints scimgate
does not offer (``/Bulk``, ``/Me``), which answer 501 as §3.7 and §3.11 ask."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, Response

from scimgate.api import params
from scimgate.api.groups import GroupResource
from scimgate.api.hooks import active_hooks, respond
from scimgate.api.resources import ResourceView
from scimgate.api.responses import base_url, list_body
from scimgate.api.users import UserResource
from scimgate.hookspecs import ScimResponse
from scimgate.scim.errors import InvalidFilter, ScimError
from scimgate.scim.projection import Projection
from scimgate.services.common import ListQuery

# Searched in this order: Users first, then Groups.
RESOURCES: tuple[type[ResourceView], ...] = (UserResource, GroupResource)


def root_search() -> Response:
    """Search Users then Groups with one filter; a type whose attributes the filter does not
    name contributes nothing. Paging runs over the concatenation, Users first."""
    body = params.read_object()
    active_hooks().normalize_request("*", "search", body)
    query = params.list_query(body, None)
    counted: list[tuple[type[ResourceView], ListQuery, int]] = []
    first_error: InvalidFilter | None = None
    for kind in RESOURCES:
        projection = Projection.parse(
            kind.schema, query.extra.get("attributes"), query.extra.get("excludedAttributes")
        )
        kind_query = dataclasses.replace(query, projection=projection)
        try:
            total = kind.list_page(dataclasses.replace(kind_query, count=0)).total
        except InvalidFilter as err:
            first_error = first_error or err
            continue
        counted.append((kind, kind_query, total))
    if not counted and first_error is not None:
        raise first_error
    resources = []
    offset = query.start_index - 1
    remaining = query.count
    total = sum(t for _, _, t in counted)
    for kind, kind_query, kind_total in counted:
        if remaining <= 0:
            break
        if offset >= kind_total:
            offset -= kind_total
            continue
        page = kind.list_page(dataclasses.replace(kind_query, start_index=offset + 1, count=remaining))
        assert kind_query.projection is not None
        resources.extend(kind.render(page.items, kind_query.projection, base_url()))
        remaining -= len(page.items)
        offset = 0
    return respond("*", "search", ScimResponse(200, list_body(resources, total, query.start_index)))


def not_implemented(feature: str, section: str) -> Response:
    """Raise the 501 a client gets for an optional feature scimgate does not implement."""
    raise ScimError(
        f"{feature} is not supported by this service provider (RFC 7644 {section}); "
        "see /ServiceProviderConfig.",
        status=501,
    )


def register(bp: Blueprint) -> None:
    """Register ``/.search``, ``/Bulk`` and ``/Me``."""
    bp.add_url_rule("/.search", "root_search", root_search, methods=["POST"])
    bp.add_url_rule("/Bulk", "bulk", lambda: not_implemented("Bulk", "§3.7"), methods=["POST"])
    bp.add_url_rule(
        "/Me",
        "me",
        lambda: not_implemented("The /Me alias", "§3.11"),
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    )
