"""Stream a large group's ``members`` instead of building the whole response in memory.

A group read asks for at most ``SCIM_STREAM_MEMBERS_ABOVE`` + 1 members. When they are all, the
group is rendered in memory as usual (one member query); otherwise the resource without
``members`` is rendered (and tuned by the client's plugins) and the rest of the members are read
through a server-side cursor while the body is written, batch by batch. Memory stays
flat whatever the group's size; the JSON is byte-for-byte what the in-memory path would give
(members in the same order, same fields).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, stream_with_context

from scimgate.api.hooks import active_hooks, respond
from scimgate.api.responses import base_url
from scimgate.hookspecs import ScimResponse
from scimgate.scim import urns
from scimgate.scim.projection import Projection
from scimgate.services import groups, memberships
from scimgate.services.group_records import GroupRecord


def _streamable(projection: Projection) -> bool:
    """Members wanted in full (an ``attributes`` list picks sub-attributes: the usual path)."""
    return projection.wants("members") and projection.include is None and "members" not in projection.exclude


def _member_json(member: memberships.MemberRef, base: str, display: bool) -> str:
    item: dict[str, Any] = {"value": member.scim_id, "$ref": f"{base}/Users/{member.scim_id}"}
    if display:
        item["display"] = member.display
    item["type"] = "User"
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def group_response(group: GroupRecord, projection: Projection, headers: dict[str, str]) -> Response | None:
    """Answer GET /Groups/{id} with members from ONE member query: rendered in memory when the
    first batch holds them all, streamed batch by batch otherwise. None: use the usual path."""
    if not _streamable(projection):
        return None
    limit = current_app.config["SCIM_STREAM_MEMBERS_ABOVE"]
    base = base_url()
    display = projection.requests("members", "display")
    first, last_user_id = memberships.first_active_members(group.group_id, limit + 1)
    if len(first) <= limit:
        resource = projection.apply(groups.render_group(group, first, base, member_display=display))
        return respond("Group", "get", ScimResponse(200, resource, dict(headers)))

    head = projection.apply(groups.render_group(group, None, base))
    tuned = ScimResponse(200, head, dict(headers))
    active_hooks().tune_response("Group", "get", tuned)
    body = tuned.body if isinstance(tuned.body, dict) else head
    prefix = json.dumps(body, ensure_ascii=False, separators=(",", ":"))[:-1]

    group_id = group.group_id

    def generate() -> Iterator[str]:
        yield prefix + ',"members":['
        yield ",".join(_member_json(m, base, display) for m in first)
        for batch in memberships.iter_active_members(group_id, after_user_id=last_user_id, batch=limit + 1):
            yield "," + ",".join(_member_json(m, base, display) for m in batch)
        yield "]}"

    response = Response(stream_with_context(generate()), status=tuned.status, mimetype=urns.SCIM_MEDIA_TYPE)
    response.headers["Content-Type"] = f"{urns.SCIM_MEDIA_TYPE}; charset=utf-8"
    for key, value in tuned.headers.items():
        response.headers[key] = value
    return response
