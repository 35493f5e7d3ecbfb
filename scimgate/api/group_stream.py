"""Stream a large group's ``members`` instead of building the whole response in memory.

A group with more active members than ``SCIM_STREAM_MEMBERS_ABOVE`` is answered with a
generator: the resource without ``members`` is rendered as usual (and tuned by the client's
plugins), then member objects are written in batches as the database yields them. Memory stays
flat whatever the group's size; the JSON is byte-for-byte what the in-memory path would give
(members in the same order, same fields).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, stream_with_context

from scimgate.api.hooks import active_hooks
from scimgate.api.responses import base_url
from scimgate.hookspecs import ScimResponse
from scimgate.models import DirectoryGroup
from scimgate.scim import urns
from scimgate.scim.projection import Projection
from scimgate.services import groups, memberships


def should_stream(group: DirectoryGroup, projection: Projection) -> bool:
    """Stream when members are wanted in full and the group is large."""
    if not projection.wants("members") or projection.include is not None:
        return False  # an ``attributes`` list selects member sub-attributes: the in-memory path applies it
    if "members" in projection.exclude:
        return False
    limit = current_app.config["SCIM_STREAM_MEMBERS_ABOVE"]
    return memberships.has_more_active_members_than(group.id, limit)


def _member_json(member: memberships.MemberRef, base: str, display: bool) -> str:
    item: dict[str, Any] = {"value": member.scim_id, "$ref": f"{base}/Users/{member.scim_id}"}
    if display:
        item["display"] = member.display
    item["type"] = "User"
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def stream_group(group: DirectoryGroup, projection: Projection, headers: dict[str, str]) -> Response:
    """Answer GET /Groups/{id} for a large group as a streamed SCIM JSON body."""
    base = base_url()
    head = projection.apply(groups.render_group(group, None, base))
    tuned = ScimResponse(200, head, dict(headers))
    active_hooks().tune_response("Group", "get", tuned)
    display = projection.requests("members", "display")
    group_id = group.id
    body = tuned.body if isinstance(tuned.body, dict) else head
    prefix = json.dumps(body, ensure_ascii=False, separators=(",", ":"))[:-1]

    def generate() -> Iterator[str]:
        yield prefix + ',"members":['
        first = True
        for batch in memberships.iter_active_members(group_id):
            chunk = ",".join(_member_json(m, base, display) for m in batch)
            yield chunk if first else "," + chunk
            first = False
        yield "]}"

    response = Response(stream_with_context(generate()), status=tuned.status, mimetype=urns.SCIM_MEDIA_TYPE)
    response.headers["Content-Type"] = f"{urns.SCIM_MEDIA_TYPE}; charset=utf-8"
    for key, value in tuned.headers.items():
        response.headers[key] = value
    return response
