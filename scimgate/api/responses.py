"""SCIM JSON responses (``application/scim+json``, RFC 7644 §3.1) and request-derived URLs."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, request

from scimgate.db.request_state import current_state
from scimgate.scim import urns

_ROOTS_KEY = "scimgate.request_roots"
_ROOTS_MAX = 64


def base_url() -> str:
    """The SCIM base URL for ``Location`` and ``$ref``: configured, else from the request
    (worked out once per request)."""
    state = current_state()
    if state is None:
        raise RuntimeError("base_url() needs a request")
    if state.base_url is None:
        configured = current_app.config.get("BASE_URL") or ""
        root = configured.rstrip("/") if configured else _request_root(request.environ)
        state.base_url = f"{root}/scim/v2"
    return state.base_url


def _request_root(environ: dict[str, Any]) -> str:
    """``request.host_url`` without its trailing slash, remembered per app for the environ values
    it is made of (scheme, host, server, script root): werkzeug's URL building and IRI decoding
    were 3-4 % of a GET. The app's host check runs on the first request of each combination; at
    most ``_ROOTS_MAX`` are kept, so made-up Host headers only cost the usual work."""
    key = (
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
        environ.get("SCRIPT_NAME", ""),
    )
    roots: dict[tuple[Any, ...], str] = current_app.extensions.setdefault(_ROOTS_KEY, {})
    root = roots.get(key)
    if root is None:
        root = request.host_url.rstrip("/")
        if len(roots) >= _ROOTS_MAX:
            roots.clear()
        roots[key] = root
    return root


def scim_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialize ``body`` as SCIM JSON; strings stay UTF-8, not ``\\u`` escapes."""
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = Response(payload, status=status, mimetype=urns.SCIM_MEDIA_TYPE)
    response.headers["Content-Type"] = f"{urns.SCIM_MEDIA_TYPE}; charset=utf-8"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def resource_headers(version: str, location: str, status: int) -> dict[str, str]:
    """``ETag`` of a resource, and ``Location`` when it was just created (RFC 7644 §3.3, §3.14)."""
    headers = {"ETag": version}
    if status == 201:
        headers["Location"] = location
    return headers


def list_body(
    resources: list[dict[str, Any]], total: int, start_index: int | None, next_cursor: str | None = None
) -> dict[str, Any]:
    """A ListResponse (RFC 7644 §3.4.2): integer counters, ``itemsPerPage`` = returned count.

    A cursor page (``start_index`` None, RFC 9865) carries ``nextCursor`` instead of ``startIndex``.
    """
    body: dict[str, Any] = {
        "schemas": [urns.LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": len(resources),
    }
    if start_index is not None:
        body["startIndex"] = start_index
    if next_cursor:
        body["nextCursor"] = next_cursor
    body["Resources"] = resources
    return body


def list_response(resources: list[dict[str, Any]], total: int, start_index: int) -> Response:
    """Serialize a ListResponse."""
    return scim_json(list_body(resources, total, start_index))
