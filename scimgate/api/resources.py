"""What the views of every SCIM resource type share (RFC 7644 §3.3 to §3.6).

``api/users.py`` and ``api/groups.py`` define their views as Flask ``MethodView`` classes, one
per URL, registered with the literal URL (``"/Groups/<resource_id>"``), each HTTP method a
method of its own (``patch``). They derive from ``ResourceView``, which knows the resource's
schema, how to list and render it, and builds the responses: a resource with its ``ETag`` (and
``Location`` when created), a ListResponse, a 304, a 204 — every one tuned by the active
client's plugins. Every view runs in ``retry_transaction`` (a PostgreSQL deadlock or
serialization failure runs the whole view again).
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask import Response, request
from flask.views import MethodView

from scimgate.api import params
from scimgate.api.hooks import active_hooks, respond
from scimgate.api.responses import base_url, list_body, resource_headers
from scimgate.db.transactions import retry_transaction
from scimgate.hookspecs import ScimResponse
from scimgate.scim.projection import Projection
from scimgate.scim.schema import ResourceSchema
from scimgate.services.common import ListQuery, Page, etag, if_none_match_hits


class ResourceView(MethodView):
    """A view of one SCIM resource type; subclasses name the schema and the service calls.

    One instance serves every request (``init_every_request``): views keep no state.
    """

    init_every_request = False
    decorators: ClassVar[list[Any]] = [retry_transaction]
    schema: ClassVar[ResourceSchema]

    @staticmethod
    def list_page(query: ListQuery) -> Page:
        """One page of resources for a list or search (the service's list)."""
        raise NotImplementedError

    @staticmethod
    def render(
        items: list[Any], projection: Projection, base: str, *, created: bool = False
    ) -> list[dict[str, Any]]:
        """The SCIM representation of ``items``, with what the projection asks for."""
        raise NotImplementedError

    @staticmethod
    def version_of(resource: Any) -> int:
        """The resource's version, for its ``ETag``."""
        raise NotImplementedError

    # Requests

    def request_body(self, action: str, *, require_object: bool = True) -> Any:
        """Parse the body and let the active client's plugins normalize it before validation."""
        body = params.read_object() if require_object else params.read_json()
        active_hooks().normalize_request(self.schema.resource_type, action, body)
        return body

    def projection(self) -> Projection:
        """The ``attributes``/``excludedAttributes`` of a single-resource request."""
        return params.projection_from_args(self.schema)

    # Responses

    def respond(self, action: str, response: ScimResponse) -> Response:
        """Let the client's plugins tune a successful response, then serialize it."""
        return respond(self.schema.resource_type, action, response)

    def listing(self, query: ListQuery, action: str) -> Response:
        """Answer a list (``GET``) or a search (``POST .search``) of this resource type."""
        page = self.list_page(query)
        projection = query.projection or Projection.parse(self.schema)
        resources = self.render(page.items, projection, base_url())
        start_index = None if query.cursor is not None else query.start_index
        body = list_body(resources, page.total, start_index, page.next_cursor)
        return self.respond(action, ScimResponse(200, body))

    def list_response(self) -> Response:
        """``GET`` on the collection: the query parameters are the query (§3.4.2)."""
        return self.listing(params.list_query(request.args, self.schema), "list")

    def search_response(self) -> Response:
        """``POST .search``: the SearchRequest body is the query (§3.4.3)."""
        return self.listing(params.list_query(self.request_body("search"), self.schema), "search")

    def resource(self, action: str, obj: Any, projection: Projection, status: int = 200) -> Response:
        """A single resource with its ETag (and Location when created), tuned by the client's plugins.

        The headers come from the resource, not its projection: ``attributes=userName`` leaves
        ``meta`` out of the body but never the ETag or Location (RFC 7644 §3.3, §3.14).
        """
        body = self.render([obj], projection, base_url(), created=status == 201)[0]
        location = f"{base_url()}{self.schema.endpoint}/{body['id']}"
        headers = resource_headers(etag(self.version_of(obj)), location, status)
        return self.respond(action, ScimResponse(status, body, headers))

    def not_modified(self, obj: Any) -> Response | None:
        """304 when ``If-None-Match`` names the resource's current version (§3.14), else None."""
        version = self.version_of(obj)
        if not if_none_match_hits(request.headers.get("If-None-Match"), version):
            return None
        return self.respond("get", ScimResponse(304, None, {"ETag": etag(version)}))

    def no_content(self, action: str, obj: Any = None) -> Response:
        """204: a delete, or a write answered without its resource (with the ETag when one is left)."""
        headers = {} if obj is None else {"ETag": etag(self.version_of(obj))}
        return self.respond(action, ScimResponse(204, None, headers))


def if_match() -> str | None:
    """The request's ``If-Match`` (§3.14): a write to a changed resource is 412."""
    return request.headers.get("If-Match")
