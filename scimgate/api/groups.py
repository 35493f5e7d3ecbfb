"""``/Groups`` (RFC 7644 §3): the views over the groups service, one per URL.

Two answers are particular to groups, for groups of 100k members: a GET whose members do not fit
in one batch streams them (``rendering.stream_group``), and a PATCH of a group with more members
than ``SCIM_PATCH_BODY_MAX_MEMBERS`` answers 204 instead of the resource.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, stream_with_context

from scimgate.api import params
from scimgate.api.hooks import active_hooks
from scimgate.api.resources import ResourceView, if_match
from scimgate.api.responses import base_url
from scimgate.conf.scim import get_scim_client
from scimgate.hookspecs import ScimResponse
from scimgate.scim import schema, urns
from scimgate.scim.projection import Projection
from scimgate.services import groups, memberships, rendering
from scimgate.services.common import ListQuery, Page, etag
from scimgate.services.group_records import GroupRecord


class GroupResource(ResourceView):
    """What every ``/Groups`` view shares: the schema, the list and how groups render."""

    schema = schema.GROUP

    @staticmethod
    def list_page(query: ListQuery) -> Page:
        return groups.list_groups(query)

    @staticmethod
    def render(
        items: list[GroupRecord], projection: Projection, base: str, *, created: bool = False
    ) -> list[dict[str, Any]]:
        return rendering.render_groups(items, projection, base, created=created)

    @staticmethod
    def version_of(resource: GroupRecord) -> int:
        return resource.version


class GroupsView(GroupResource):
    """``GET /Groups`` lists (§3.4.2), ``POST /Groups`` creates (§3.3)."""

    def get(self) -> Response:
        return self.list_response()

    def post(self) -> Response:
        group = groups.create_group(self.request_body("create"), get_scim_client())
        return self.resource("create", group, self.projection(), 201)


class GroupsSearchView(GroupResource):
    """``POST /Groups/.search`` (§3.4.3)."""

    def post(self) -> Response:
        return self.search_response()


class GroupView(GroupResource):
    """``/Groups/<id>``: read (§3.4.1), replace (§3.5.1), patch (§3.5.2), delete (§3.6)."""

    def get(self, resource_id: str) -> Response:
        projection = self.projection()
        group = groups.get_group(resource_id)
        not_modified = self.not_modified(group)
        if not_modified is not None:
            return not_modified
        if rendering.streams_members(projection):
            return self.members_in_full(group, projection)
        return self.resource("get", group, projection)

    def members_in_full(self, group: GroupRecord, projection: Projection) -> Response:
        """The group with every member, from ONE member query: rendered in memory when the first
        batch (``SCIM_STREAM_MEMBERS_ABOVE`` + 1 members) holds them all, streamed batch by batch
        otherwise, so memory stays flat whatever the group's size."""
        limit = current_app.config["SCIM_STREAM_MEMBERS_ABOVE"]
        base = base_url()
        display = projection.requests("members", "display")
        headers = {"ETag": etag(self.version_of(group))}
        first, last_user_id = memberships.first_active_members(group.group_id, limit + 1)
        if len(first) <= limit:
            body = projection.apply(rendering.render_group(group, first, base, member_display=display))
            return self.respond("get", ScimResponse(200, body, headers))

        head = projection.apply(rendering.render_group(group, None, base))
        tuned = ScimResponse(200, head, headers)
        active_hooks().tune_response("Group", "get", tuned)
        text = rendering.stream_group(
            tuned.body if isinstance(tuned.body, dict) else head,
            group.group_id,
            first,
            last_user_id,
            base,
            member_display=display,
            batch=limit + 1,
        )
        response = Response(stream_with_context(text), status=tuned.status, mimetype=urns.SCIM_MEDIA_TYPE)
        response.headers["Content-Type"] = f"{urns.SCIM_MEDIA_TYPE}; charset=utf-8"
        response.headers.update(tuned.headers)
        return response

    def put(self, resource_id: str) -> Response:
        group = groups.replace_group(resource_id, self.request_body("replace"), if_match())
        return self.resource("replace", group, self.projection())

    def patch(self, resource_id: str) -> Response:
        body = self.request_body("patch", require_object=False)
        group = groups.patch_group(resource_id, params.patch_operations(body), if_match())
        projection = self.projection()
        if self.too_big_to_return(group, projection):
            return self.no_content("patch", group)
        return self.resource("patch", group, projection)

    @staticmethod
    def too_big_to_return(group: GroupRecord, projection: Projection) -> bool:
        """A PATCH of a group with more members than ``SCIM_PATCH_BODY_MAX_MEMBERS`` answers 204
        (RFC 7644 §3.5.2 allows it): one member change must not cost a 100k-member response. The
        count includes deactivated members, so the check reads one index and nothing else."""
        if not projection.wants("members"):
            return False
        limit = current_app.config["SCIM_PATCH_BODY_MAX_MEMBERS"]
        return memberships.has_more_members_than(group.group_id, limit)

    def delete(self, resource_id: str) -> Response:
        groups.delete_group(resource_id, if_match())
        return self.no_content("delete")


def register(bp: Blueprint) -> None:
    """Register the /Groups views."""
    bp.add_url_rule("/Groups", view_func=GroupsView.as_view("groups"))
    bp.add_url_rule("/Groups/.search", view_func=GroupsSearchView.as_view("groups_search"))
    bp.add_url_rule("/Groups/<resource_id>", view_func=GroupView.as_view("group"))
