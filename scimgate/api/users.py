"""``/Users`` (RFC 7644 §3): the views over the users service, one per URL."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from scimgate.api import params
from scimgate.api.resources import ResourceView, if_match
from scimgate.conf.scim import get_scim_client
from scimgate.scim import schema
from scimgate.scim.projection import Projection
from scimgate.services import rendering, user_records, users
from scimgate.services.common import ListQuery, Page
from scimgate.services.user_records import UserRecord


class UserResource(ResourceView):
    """What every ``/Users`` view shares: the schema, the list and how users render."""

    schema = schema.USER

    @staticmethod
    def list_page(query: ListQuery) -> Page:
        return users.list_users(query)

    @staticmethod
    def render(
        items: list[UserRecord], projection: Projection, base: str, *, created: bool = False
    ) -> list[dict[str, Any]]:
        return rendering.render_users(items, projection, base, created=created)

    @staticmethod
    def version_of(resource: UserRecord) -> int:
        return resource.version


class UsersView(UserResource):
    """``GET /Users`` lists (§3.4.2), ``POST /Users`` creates (§3.3)."""

    def get(self) -> Response:
        return self.list_response()

    def post(self) -> Response:
        user = users.create_user(self.request_body("create"), get_scim_client())
        return self.resource("create", user, self.projection(), 201)


class UsersSearchView(UserResource):
    """``POST /Users/.search`` (§3.4.3)."""

    def post(self) -> Response:
        return self.search_response()


class UserView(UserResource):
    """``/Users/<id>``: read (§3.4.1), replace (§3.5.1), patch (§3.5.2), delete (§3.6)."""

    def get(self, resource_id: str) -> Response:
        projection = self.projection()
        # The user's groups come in the same statement when the response shows them.
        user = user_records.read_user(resource_id, with_groups=projection.wants("groups"))
        not_modified = self.not_modified(user)
        return not_modified if not_modified is not None else self.resource("get", user, projection)

    def put(self, resource_id: str) -> Response:
        user = users.replace_user(resource_id, self.request_body("replace"), if_match())
        return self.resource("replace", user, self.projection())

    def patch(self, resource_id: str) -> Response:
        body = self.request_body("patch", require_object=False)
        user = users.patch_user(resource_id, params.patch_operations(body), if_match())
        return self.resource("patch", user, self.projection())

    def delete(self, resource_id: str) -> Response:
        users.delete_user(resource_id, if_match())
        return self.no_content("delete")


def register(bp: Blueprint) -> None:
    """Register the /Users views."""
    bp.add_url_rule("/Users", view_func=UsersView.as_view("users"))
    bp.add_url_rule("/Users/.search", view_func=UsersSearchView.as_view("users_search"))
    bp.add_url_rule("/Users/<resource_id>", view_func=UserView.as_view("user"))
