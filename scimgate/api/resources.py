"""Generic routes for a SCIM resource type (Users, Groups): §3.3 create, §3.4 read and list,
§3.5 replace and patch, §3.6 delete. Each route parses, calls the service and responds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, request

from scimgate.api import params
from scimgate.api.hooks import active_hooks, respond
from scimgate.api.responses import base_url, list_body, resource_headers
from scimgate.configuration_utils import get_scim_client
from scimgate.db.transactions import retry_transaction
from scimgate.hookspecs import ScimResponse
from scimgate.scim.patch import Operation
from scimgate.scim.projection import Projection
from scimgate.scim.schema import ResourceSchema
from scimgate.services.common import ListQuery, Page, etag, if_none_match_hits


@dataclass(frozen=True)
class ResourceKind:
    """What the routes need from a resource service."""

    schema: ResourceSchema
    get: Callable[[str, Projection], Any]  # (id, projection): the projection may spare a join
    create: Callable[[dict[str, Any], str], Any]
    replace: Callable[[str, dict[str, Any], str | None], Any]
    patch: Callable[[str, list[Operation], str | None], Any]
    delete: Callable[[str, str | None], None]
    list: Callable[[ListQuery], Page]
    render_many: Callable[..., list[dict[str, Any]]]  # (items, projection, base_url, *, created)
    version_of: Callable[[Any], int]
    # Answer a PATCH with 204 instead of the resource (e.g. a huge group's member list).
    patch_without_body: Callable[[Any, Projection], bool] | None = None
    # Answer a GET with a streamed body (e.g. a huge group's member list), or None for the usual.
    stream_get: Callable[[Any, Projection, dict[str, str]], Response | None] | None = None


def render_one(
    kind: ResourceKind, obj: Any, projection: Projection, *, created: bool = False
) -> dict[str, Any]:
    """Render one resource with what the projection asks for."""
    return kind.render_many([obj], projection, base_url(), created=created)[0]


def list_resources(kind: ResourceKind, query: ListQuery, action: str) -> Response:
    """Answer a list or .search request for one resource type."""
    page = kind.list(query)
    projection = query.projection or Projection.parse(kind.schema)
    resources = kind.render_many(page.items, projection, base_url())
    start_index = None if query.cursor is not None else query.start_index
    body = list_body(resources, page.total, start_index, page.next_cursor)
    return respond(kind.schema.resource_type, action, ScimResponse(200, body))


def resource_result(
    kind: ResourceKind, action: str, obj: Any, projection: Projection, status: int = 200
) -> Response:
    """A single resource with its ETag (and Location when created), tuned by the client's plugins.

    The headers come from the resource, not its projection: ``attributes=userName`` leaves
    ``meta`` out of the body but never the ETag or Location (RFC 7644 §3.3, §3.14).
    """
    resource = render_one(kind, obj, projection, created=status == 201)
    location = f"{base_url()}{kind.schema.endpoint}/{resource['id']}"
    headers = resource_headers(etag(kind.version_of(obj)), location, status)
    return respond(kind.schema.resource_type, action, ScimResponse(status, resource, headers))


def normalized_body(kind: ResourceKind, action: str, *, require_object: bool = True) -> Any:
    """Parse the body and let the active client's plugins normalize it before validation."""
    body = params.read_object() if require_object else params.read_json()
    active_hooks().normalize_request(kind.schema.resource_type, action, body)
    return body


def register_resource(bp: Blueprint, kind: ResourceKind) -> None:
    """Register list/create/search on the collection and get/put/patch/delete on an item."""
    endpoint = kind.schema.endpoint
    name = kind.schema.name.lower()

    def collection_get() -> Response:
        return list_resources(kind, params.list_query(request.args, kind.schema), "list")

    def collection_post() -> Response:
        body = normalized_body(kind, "create")
        obj = kind.create(body, get_scim_client())
        return resource_result(kind, "create", obj, params.projection_from_args(kind.schema), 201)

    def search() -> Response:
        body = normalized_body(kind, "search")
        return list_resources(kind, params.list_query(body, kind.schema), "search")

    def item_get(resource_id: str) -> Response:
        projection = params.projection_from_args(kind.schema)
        obj = kind.get(resource_id, projection)
        version = kind.version_of(obj)
        if if_none_match_hits(request.headers.get("If-None-Match"), version):
            return respond(kind.schema.resource_type, "get", ScimResponse(304, None, {"ETag": etag(version)}))
        if kind.stream_get is not None:
            streamed = kind.stream_get(obj, projection, {"ETag": etag(version)})
            if streamed is not None:
                return streamed
        return resource_result(kind, "get", obj, projection)

    def item_put(resource_id: str) -> Response:
        body = normalized_body(kind, "replace")
        obj = kind.replace(resource_id, body, request.headers.get("If-Match"))
        return resource_result(kind, "replace", obj, params.projection_from_args(kind.schema))

    def item_patch(resource_id: str) -> Response:
        operations = params.patch_operations(normalized_body(kind, "patch", require_object=False))
        obj = kind.patch(resource_id, operations, request.headers.get("If-Match"))
        projection = params.projection_from_args(kind.schema)
        if kind.patch_without_body is not None and kind.patch_without_body(obj, projection):
            headers = {"ETag": etag(kind.version_of(obj))}
            return respond(kind.schema.resource_type, "patch", ScimResponse(204, None, headers))
        return resource_result(kind, "patch", obj, projection)

    def item_delete(resource_id: str) -> Response:
        kind.delete(resource_id, request.headers.get("If-Match"))
        return respond(kind.schema.resource_type, "delete", ScimResponse(204, None))

    bp.add_url_rule(endpoint, f"{name}_list", retry_transaction(collection_get), methods=["GET"])
    bp.add_url_rule(endpoint, f"{name}_create", retry_transaction(collection_post), methods=["POST"])
    bp.add_url_rule(f"{endpoint}/.search", f"{name}_search", retry_transaction(search), methods=["POST"])
    item = f"{endpoint}/<resource_id>"
    bp.add_url_rule(item, f"{name}_get", retry_transaction(item_get), methods=["GET"])
    bp.add_url_rule(item, f"{name}_put", retry_transaction(item_put), methods=["PUT"])
    bp.add_url_rule(item, f"{name}_patch", retry_transaction(item_patch), methods=["PATCH"])
    bp.add_url_rule(item, f"{name}_delete", retry_transaction(item_delete), methods=["DELETE"])
