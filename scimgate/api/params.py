"""Read SCIM request bodies and list parameters (RFC 7644 §3.4.2, §3.4.3, §3.8)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, request

from scimgate.api.hooks import active_hooks
from scimgate.scim import json_input, urns
from scimgate.scim.errors import InvalidSyntax, InvalidValue, UnsupportedMediaType
from scimgate.scim.filters import parse_filter
from scimgate.scim.patch import Operation, parse_operations
from scimgate.scim.projection import Projection
from scimgate.scim.schema import ResourceSchema
from scimgate.services.common import ListQuery
from scimgate.services.payloads import check_value_count

JSON_MEDIA_TYPES = {urns.SCIM_MEDIA_TYPE, "application/json"}


def read_json() -> Any:
    """Parse the body as JSON; a missing Content-Type is read as SCIM JSON (§3.8)."""
    mimetype = request.mimetype
    if mimetype and mimetype not in JSON_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type '{mimetype}' is not supported; send 'application/scim+json' or 'application/json'."
        )
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise InvalidSyntax("The request needs a JSON body.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidSyntax(f"The body is not valid UTF-8 (byte {err.start}).") from None
    return json_input.loads(text)


def read_object() -> dict[str, Any]:
    """Parse a JSON body that must be an object."""
    body = read_json()
    if not isinstance(body, dict):
        raise InvalidSyntax(f"The body must be a JSON object, not a JSON {type(body).__name__}.")
    return body


def patch_operations(body: Any) -> list[Operation]:
    """Parse a PatchOp body within the request caps: ``SCIM_MAX_PATCH_OPERATIONS`` operations,
    and per attribute the values of all operations together (``members`` included, which PATCH
    applies row by row without ever holding the group's list) within the multi-value caps."""
    config = current_app.config
    operations = parse_operations(body, max_operations=int(config["SCIM_MAX_PATCH_OPERATIONS"]))
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for operation in operations:
        for name, count in _value_counts(operation):
            counts[name.lower()] = counts.get(name.lower(), 0) + count
            names.setdefault(name.lower(), name)
    for key, count in counts.items():
        check_value_count(names[key], count, config)
    return operations


def _value_counts(operation: Operation) -> list[tuple[str, int]]:
    """(attribute, number of values) that one operation carries."""
    if not operation.has_value:
        return []
    if operation.path is None:
        if not isinstance(operation.value, dict):
            return []
        return [(key, len(value)) for key, value in operation.value.items() if isinstance(value, list)]
    if not isinstance(operation.value, list):
        return []  # one value per operation: the operations cap bounds those
    return [(operation.path.path.attr, len(operation.value))]


def _integer(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise InvalidValue(f"'{name}' must be an integer; got {value!r}.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidValue(f"'{name}' must be an integer; got {value!r}.") from None


def _string(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        json_input.check_text(value, f"'{name}'")
    if isinstance(value, list) and name in {"attributes", "excludedAttributes"}:
        if not all(isinstance(v, str) for v in value):
            raise InvalidValue(f"'{name}' must be a list of attribute names.")
        return ",".join(value)
    if not isinstance(value, str):
        raise InvalidValue(f"'{name}' must be a string.")
    return value


def list_query(source: Mapping[str, Any], schema: ResourceSchema | None) -> ListQuery:
    """Build a ListQuery from query parameters or a SearchRequest body (§3.4.3).

    startIndex below 1 is read as 1 and count below 0 as 0 (§3.4.2.4); count above
    ``SCIM_MAX_RESULTS`` is capped to it, as /ServiceProviderConfig advertises.
    """
    params = {k.lower(): v for k, v in source.items()}
    max_results = current_app.config["SCIM_MAX_RESULTS"]
    cursor = _string(params.get("cursor"), "cursor")
    if cursor is not None and params.get("startindex") not in (None, ""):
        raise InvalidValue("Use either 'cursor' (RFC 9865) or 'startIndex', not both.")
    if cursor is not None and schema is None:
        raise InvalidValue("Cursor pagination is offered on /Users and /Groups, not on /.search.")
    start = _integer(params.get("startindex"), "startIndex")
    count = _integer(params.get("count"), "count")
    start = 1 if start is None or start < 1 else start
    if count is None:
        count = min(current_app.config["SCIM_DEFAULT_COUNT"], max_results)
    count = max(0, min(count, max_results))
    raw_filter = _string(params.get("filter"), "filter")
    if raw_filter is not None and raw_filter.strip():
        resource_type = schema.resource_type if schema is not None else "*"
        raw_filter = active_hooks().normalize_filter(resource_type, raw_filter)
    expr = parse_filter(raw_filter) if raw_filter is not None and raw_filter.strip() else None
    sort_order = (_string(params.get("sortorder"), "sortOrder") or "ascending").lower()
    if sort_order not in {"ascending", "descending"}:
        raise InvalidValue(f"sortOrder must be 'ascending' or 'descending'; got {sort_order!r}.")
    attributes = _string(params.get("attributes"), "attributes")
    excluded = _string(params.get("excludedattributes"), "excludedAttributes")
    projection = Projection.parse(schema, attributes, excluded) if schema is not None else None
    return ListQuery(
        filter=expr,
        sort_by=_string(params.get("sortby"), "sortBy"),
        descending=sort_order == "descending",
        start_index=start,
        count=count,
        projection=projection,
        extra={"attributes": attributes or "", "excludedAttributes": excluded or ""},
        cursor=cursor,
    )


def projection_from_args(schema: ResourceSchema) -> Projection:
    """The attributes/excludedAttributes query parameters of a single-resource request."""
    if not request.environ.get("QUERY_STRING"):  # the usual case: no query string to parse
        return Projection.parse(schema)
    return Projection.parse(
        schema,
        _string(request.args.get("attributes"), "attributes"),
        _string(request.args.get("excludedAttributes"), "excludedAttributes"),
    )
