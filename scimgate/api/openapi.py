"""``GET /scim/v2/openapi.json``: an OpenAPI 3.1 description of the SCIM API, built from the
definitions the server runs on.

Resource schemas come from ``scimgate.scim.schema`` (the same attributes ``/Schemas`` serves and
the PATCH engine applies), length limits from the marshmallow validators in ``scimgate.services.payloads``,
the PATCH operation cap from ``scimgate.scim.patch``, the error types from ``scimgate.scim.errors``.
Request bodies allow additional properties (scimgate accepts and ignores what it does not store);
responses do not (scimgate returns exactly the attributes it stores). ``schemathesis`` runs
against this document in the test suite (``tests/test_openapi_fuzz.py``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app
from marshmallow import Schema, fields, validate

from scimgate.api.responses import base_url, scim_json
from scimgate.scim import errors, schema, urns
from scimgate.services import payloads

OPENAPI_VERSION = "3.1.0"
JSON_TYPES = {
    "string": "string",
    "boolean": "boolean",
    "decimal": "number",
    "integer": "integer",
    "dateTime": "string",
    "reference": "string",
    "binary": "string",
    "complex": "object",
}
MEDIA_TYPES = (urns.SCIM_MEDIA_TYPE, "application/json")
ETAG = {"type": "string", "pattern": r'^W/"[0-9]+"$'}
# RFC 7644 §3.12 Table 9, plus RFC 9865's cursor errors.
RFC_SCIM_TYPES = (
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
    "invalidCursor",
    "expiredCursor",
)
ERROR_DESCRIPTIONS = {
    400: "Bad request: `scimType` says why (RFC 7644 §3.12).",
    401: "Missing or invalid credentials; `WWW-Authenticate` names the accepted schemes.",
    403: "Authenticated, but refused: SCIM sync is disabled, or a `filter` on a discovery endpoint.",
    404: "No such resource.",
    409: "A unique attribute (userName, Group displayName) is already in use (`uniqueness`).",
    412: "`If-Match` names another version of the resource (RFC 7644 §3.14).",
    413: "The request body is larger than the server accepts.",
    415: "The body is declared as something other than SCIM JSON (`application/scim+json`, "
    "`application/json`).",
    429: "Too many requests or failed authentications; retry after `Retry-After` seconds.",
    501: "Not implemented by this service provider (see /ServiceProviderConfig).",
}
SECURITY = [{"bearerAuth": []}, {"basicAuth": []}]


# -- schemas from the attribute definitions ---------------------------------------------------


def _scim_types() -> list[str]:
    found = set(RFC_SCIM_TYPES)
    pending = [errors.ScimError]
    while pending:
        cls = pending.pop()
        if cls.scim_type:
            found.add(cls.scim_type)
        pending.extend(cls.__subclasses__())
    return sorted(found)


def _length(field: fields.Field | None) -> dict[str, int]:
    """``minLength``/``maxLength`` of a marshmallow field's Length validator."""
    out: dict[str, int] = {}
    for validator in getattr(field, "validators", ()) or ():
        if isinstance(validator, validate.Length):
            if validator.min:
                out["minLength"] = validator.min
            if validator.max is not None:
                out["maxLength"] = validator.max
    return out


def _sub_fields(field: fields.Field | None) -> dict[str, fields.Field] | None:
    """The fields of a complex attribute's sub-attributes (also inside a List), or None."""
    if isinstance(field, fields.List):
        field = field.inner
    return field.members if isinstance(field, payloads.SubAttributes) else None


def _attribute_schema(
    attribute: schema.Attribute, *, request: bool, validator: fields.Field | None = None
) -> dict[str, Any]:
    """JSON Schema of one attribute value; a request value may be null (null = not given)."""
    out: dict[str, Any] = {"type": JSON_TYPES[attribute.type], "description": attribute.description}
    if attribute.type == "dateTime":
        out["format"] = "date-time"
    if attribute.type == "reference" and "uri" in attribute.reference_types:
        out["format"] = "uri"
    if attribute.type == "complex":
        members = _sub_fields(validator) or {}
        out["properties"] = {
            sub.name: _attribute_schema(sub, request=request, validator=members.get(sub.name))
            for sub in attribute.sub_attributes
        }
        out["additionalProperties"] = request
    elif request:
        out.update(_length(validator))  # canonical values are suggestions: any string is accepted
    if attribute.read_only:
        out["readOnly"] = True
    if attribute.multi_valued:
        item = {k: v for k, v in out.items() if k != "description"}
        out = {"type": "array", "items": item, "description": attribute.description}
        if attribute.read_only:
            out["readOnly"] = True
    if request:
        out["type"] = [out["type"], "null"]
    return out


def _schemas_member(urn: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string"},
        "contains": {"const": urn},
        "description": f"Must include `{urn}`; other URNs are tolerated.",
    }


def _meta(resource_type: str) -> dict[str, Any]:
    return {
        "type": "object",
        "readOnly": True,
        "properties": {
            "resourceType": {"const": resource_type},
            "created": {"type": "string", "format": "date-time"},
            "lastModified": {"type": "string", "format": "date-time"},
            "location": {"type": "string", "format": "uri"},
            "version": ETAG,
        },
        "additionalProperties": False,
    }


def resource_schema(resource: schema.ResourceSchema) -> dict[str, Any]:
    """A resource as the server returns it: only the attributes scimgate stores.

    Only ``schemas`` and ``id`` are always present (``attributes`` / ``excludedAttributes`` may
    leave out anything else, RFC 7644 §3.4.2.5).
    """
    properties: dict[str, Any] = {"schemas": {**_schemas_member(resource.id), "maxItems": 1}}
    for attribute in (*resource.common, *resource.attributes):
        if attribute.name == "meta":
            properties["meta"] = _meta(resource.resource_type)
        else:
            properties[attribute.name] = _attribute_schema(attribute, request=False)
    if resource.attribute("emails") is not None:
        properties["emails"]["maxItems"] = 1  # one stored address (reference)
    return {
        "type": "object",
        "description": resource.description,
        "required": ["schemas", "id"],
        "properties": properties,
        "additionalProperties": False,
    }


def request_schema(resource: schema.ResourceSchema, validators: Schema) -> dict[str, Any]:
    """A resource as POST and PUT accept it: unknown attributes are accepted and ignored."""
    properties: dict[str, Any] = {"schemas": _schemas_member(resource.id)}
    required = ["schemas"]  # RFC 7643 §3
    for attribute in (*resource.common, *resource.attributes):
        if attribute.name in {"id", "meta"}:
            continue  # read-only and ignored when sent
        validator = validators.fields.get(attribute.name)
        properties[attribute.name] = _attribute_schema(attribute, request=True, validator=validator)
        if attribute.multi_valued:  # the per-request value caps (payloads.value_limit)
            limit, _setting = payloads.value_limit(attribute.name, current_app.config)
            properties[attribute.name]["maxItems"] = limit
        if validator is not None and validator.required:
            required.append(attribute.name)
            properties[attribute.name]["type"] = JSON_TYPES[attribute.type]
    return {
        "type": "object",
        "description": resource.description,
        "required": required,
        "properties": properties,
        "additionalProperties": True,
    }


def _patch_op_schema() -> dict[str, Any]:
    path = {
        "type": "string",
        "description": 'An attribute path (RFC 7644 §3.5.2), e.g. `emails[type eq "work"].value`.',
    }
    return {
        "type": "object",
        "description": "A PATCH request (RFC 7644 §3.5.2); all operations apply in one transaction.",
        "required": ["schemas", "Operations"],
        "properties": {
            "schemas": _schemas_member(urns.PATCH_OP),
            "Operations": {
                "type": "array",
                "minItems": 1,
                "maxItems": current_app.config["SCIM_MAX_PATCH_OPERATIONS"],
                "items": {
                    "anyOf": [
                        {
                            "type": "object",
                            "required": ["op", "path"],
                            "properties": {"op": {"const": "remove"}, "path": path, "value": {}},
                        },
                        {
                            "type": "object",
                            "required": ["op", "path", "value"],
                            "properties": {"op": {"enum": ["add", "replace"]}, "path": path, "value": {}},
                        },
                        {
                            "type": "object",
                            "required": ["op", "value"],
                            "properties": {
                                "op": {"enum": ["add", "replace"]},
                                "value": {
                                    "type": "object",
                                    "description": "Attribute names (or paths) to values.",
                                },
                            },
                        },
                    ]
                },
            },
        },
        "additionalProperties": True,
    }


def _search_request_schema() -> dict[str, Any]:
    """Every member is optional, and ``null`` reads as absent (as in the query string)."""
    names = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]}
    return {
        "type": "object",
        "description": "A query in the body (RFC 7644 §3.4.3); member names are case-insensitive.",
        "properties": {
            "schemas": _schemas_member(urns.SEARCH_REQUEST),
            "filter": {"type": ["string", "null"]},
            "sortBy": {"type": ["string", "null"]},
            "sortOrder": {"enum": ["ascending", "descending", None]},
            "startIndex": {"type": ["integer", "null"]},
            "count": {"type": ["integer", "null"]},
            "attributes": names,
            "excludedAttributes": names,
            "cursor": {
                "type": ["string", "null"],
                "description": "RFC 9865: empty for the first page, then `nextCursor`; not with startIndex; "
                "not on /.search.",
            },
        },
        "additionalProperties": True,
    }


def _list_response_schema(items: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["schemas", "totalResults", "itemsPerPage", "Resources"],
        "properties": {
            "schemas": {
                "type": "array",
                "items": {"const": urns.LIST_RESPONSE},
                "minItems": 1,
                "maxItems": 1,
            },
            "totalResults": {"type": "integer", "minimum": 0},
            "itemsPerPage": {"type": "integer", "minimum": 0},
            "startIndex": {"type": "integer", "minimum": 1},
            "nextCursor": {"type": "string", "minLength": 1},
            "Resources": {"type": "array", "items": items},
        },
        "additionalProperties": False,
    }


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "RFC 7644 §3.12 error body.",
        "required": ["schemas", "status", "detail"],
        "properties": {
            "schemas": {"type": "array", "items": {"const": urns.ERROR}, "minItems": 1, "maxItems": 1},
            "status": {"type": "string", "pattern": "^[45][0-9]{2}$"},
            "scimType": {"enum": _scim_types()},
            "detail": {"type": "string"},
        },
        "additionalProperties": False,
    }


def _discovery_schemas() -> dict[str, Any]:
    def fixed(urn: str, required: list[str]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["schemas", *required],
            "properties": {"schemas": {"type": "array", "items": {"const": urn}, "minItems": 1}},
            "additionalProperties": True,
        }

    return {
        "ServiceProviderConfig": fixed(
            urns.SERVICE_PROVIDER_CONFIG,
            ["patch", "bulk", "filter", "changePassword", "sort", "etag", "authenticationSchemes"],
        ),
        "ResourceType": fixed(urns.RESOURCE_TYPE, ["id", "name", "endpoint", "schema"]),
        "Schema": fixed(urns.SCHEMA, ["id", "attributes"]),
    }


# -- examples: documentation, and real requests for schemathesis' examples phase ---------------

EXAMPLES: dict[str, Any] = {
    "UserRequest": {
        "schemas": [urns.USER],
        "userName": "bjensen",
        "externalId": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs Jensen",
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}],
        "active": True,
    },
    "GroupRequest": {"schemas": [urns.GROUP], "displayName": "Tour Guides", "externalId": "tour-guides"},
    "UserPatch": {
        "schemas": [urns.PATCH_OP],
        "Operations": [
            {"op": "replace", "path": "displayName", "value": "Barbara Jensen"},
            {"op": "add", "path": 'emails[type eq "work"].value', "value": "barbara@example.com"},
            {"op": "remove", "path": "name.givenName"},
            {"op": "replace", "value": {"active": False, "name.familyName": "Jensen-Smith"}},
        ],
    },
    "GroupPatch": {
        "schemas": [urns.PATCH_OP],
        "Operations": [
            {"op": "replace", "value": {"displayName": "Tour Guides (EMEA)"}},
            {"op": "add", "path": "members", "value": []},
        ],
    },
    "SearchRequest": {
        "schemas": [urns.SEARCH_REQUEST],
        "filter": 'meta.lastModified gt "2011-05-13T04:42:34Z"',
        "sortBy": "meta.lastModified",
        "startIndex": 1,
        "count": 10,
    },
}
FILTER_EXAMPLES = {
    "user": 'userName eq "bjensen"',
    "group": 'displayName sw "Tour"',
    "valuePath": 'emails[type eq "work" and value co "@example.com"] or not (active eq false)',
}


# -- parameters, responses, paths ------------------------------------------------------------


def _query(name: str, description: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": value}


def _parameters() -> dict[str, Any]:
    max_results = current_app.config["SCIM_MAX_RESULTS"]
    return {
        "filter": {
            **_query("filter", "RFC 7644 §3.4.2.2 filter, translated to SQL.", {"type": "string"}),
            "examples": {name: {"value": value} for name, value in FILTER_EXAMPLES.items()},
        },
        "sortBy": _query("sortBy", "Attribute to sort by (single-valued, or emails).", {"type": "string"}),
        "sortOrder": _query(
            "sortOrder", "`ascending` (default) or `descending`.", {"enum": ["ascending", "descending"]}
        ),
        "startIndex": _query("startIndex", "1-based; below 1 reads as 1.", {"type": "integer"}),
        "count": _query(
            "count", f"Page size; below 0 reads as 0, above {max_results} is capped.", {"type": "integer"}
        ),
        "cursor": _query(
            "cursor",
            "Cursor pagination (RFC 9865): empty for the first page, then `nextCursor`; not with startIndex.",
            {"type": "string"},
        ),
        "attributes": _query("attributes", "Comma-separated attributes to return.", {"type": "string"}),
        "excludedAttributes": _query(
            "excludedAttributes", "Comma-separated attributes to leave out.", {"type": "string"}
        ),
        "id": {
            "name": "id",
            "in": "path",
            "required": True,
            "description": "The resource id (a UUID assigned by scimgate).",
            "schema": {"type": "string"},
        },
        "IfMatch": {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "description": "Write only if the resource still has this ETag (else 412).",
            "schema": {"type": "string"},
        },
        "IfNoneMatch": {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "description": "Answer 304 if the resource still has this ETag.",
            "schema": {"type": "string"},
        },
    }


def _json_content(ref: str) -> dict[str, Any]:
    return {media: {"schema": {"$ref": ref}} for media in (urns.SCIM_MEDIA_TYPE,)}


def _error_responses() -> dict[str, Any]:
    responses = {}
    for status, description in ERROR_DESCRIPTIONS.items():
        body = {
            "allOf": [
                {"$ref": "#/components/schemas/Error"},
                {"properties": {"status": {"const": str(status)}}},
            ]
        }
        response: dict[str, Any] = {
            "description": description,
            "content": {urns.SCIM_MEDIA_TYPE: {"schema": body}},
        }
        if status == 401:
            response["headers"] = {
                "WWW-Authenticate": {"required": True, "schema": {"type": "string", "minLength": 1}}
            }
        if status == 429:
            response["headers"] = {"Retry-After": {"required": False, "schema": {"type": "string"}}}
        responses[str(status)] = response
    return responses


def _errors(*statuses: int) -> dict[str, Any]:
    """The error responses of an operation: its own, plus what every SCIM route can answer."""
    every = (401, 403, 429)
    return {str(s): {"$ref": f"#/components/responses/Error{s}"} for s in sorted({*statuses, *every})}


def _resource_response(name: str, description: str, *, created: bool = False) -> dict[str, Any]:
    headers: dict[str, Any] = {"ETag": {"required": True, "schema": ETAG}}
    if created:
        headers["Location"] = {"required": True, "schema": {"type": "string", "format": "uri"}}
    return {
        "description": description,
        "headers": headers,
        "content": _json_content(f"#/components/schemas/{name}"),
    }


def _body(ref: str, description: str, example: str) -> dict[str, Any]:
    content = {"schema": {"$ref": ref}, "example": EXAMPLES[example]}
    return {"required": True, "description": description, "content": dict.fromkeys(MEDIA_TYPES, content)}


def _param_refs(*names: str) -> list[dict[str, str]]:
    return [{"$ref": f"#/components/parameters/{n}"} for n in names]


def _resource_paths(resource: schema.ResourceSchema) -> dict[str, Any]:
    name = resource.resource_type
    plural = resource.endpoint.strip("/")
    projection = ("attributes", "excludedAttributes")
    links = {
        f"Get{name}": {"operationId": f"get{name}", "parameters": {"id": "$response.body#/id"}},
        f"Replace{name}": {"operationId": f"replace{name}", "parameters": {"id": "$response.body#/id"}},
        f"Patch{name}": {"operationId": f"patch{name}", "parameters": {"id": "$response.body#/id"}},
        f"Delete{name}": {"operationId": f"delete{name}", "parameters": {"id": "$response.body#/id"}},
    }
    created = _resource_response(name, f"The created {name}.", created=True)
    created["links"] = links
    patched = _resource_response(name, f"The patched {name}.")
    patch_responses: dict[str, Any] = {"200": patched}
    if name == "Group":
        patch_responses["204"] = {
            "description": "Patched; no body (a group with very many members, or a client that asks for it).",
            "headers": {"ETag": {"required": True, "schema": ETAG}},
        }
    list_params = (
        "filter", "sortBy", "sortOrder", "startIndex", "count", "cursor", *projection
    )  # fmt: skip
    return {
        resource.endpoint: {
            "get": {
                "operationId": f"list{plural}",
                "summary": f"List or filter {plural} (RFC 7644 §3.4.2).",
                "parameters": _param_refs(*list_params),
                "responses": {
                    "200": {
                        "description": f"A page of {plural}.",
                        "content": _json_content(f"#/components/schemas/{name}ListResponse"),
                    },
                    **_errors(400),
                },
            },
            "post": {
                "operationId": f"create{name}",
                "summary": f"Create a {name} (RFC 7644 §3.3).",
                "parameters": _param_refs(*projection),
                "requestBody": _body(
                    f"#/components/schemas/{name}Request", f"The new {name}.", f"{name}Request"
                ),
                "responses": {"201": created, **_errors(400, 409, 413, 415)},
            },
        },
        f"{resource.endpoint}/.search": {
            "post": {
                "operationId": f"search{plural}",
                "summary": f"Search {plural} with a query in the body (RFC 7644 §3.4.3).",
                "requestBody": _body("#/components/schemas/SearchRequest", "The query.", "SearchRequest"),
                "responses": {
                    "200": {
                        "description": f"A page of {plural}.",
                        "content": _json_content(f"#/components/schemas/{name}ListResponse"),
                    },
                    **_errors(400, 413, 415),
                },
            },
        },
        f"{resource.endpoint}/{{id}}": {
            "parameters": _param_refs("id"),
            "get": {
                "operationId": f"get{name}",
                "summary": f"Read a {name} (RFC 7644 §3.4.1).",
                "parameters": _param_refs(*projection, "IfNoneMatch"),
                "responses": {
                    "200": _resource_response(name, f"The {name}."),
                    "304": {
                        "description": "`If-None-Match` names the current version.",
                        "headers": {"ETag": {"required": True, "schema": ETAG}},
                    },
                    **_errors(400, 404),
                },
            },
            "put": {
                "operationId": f"replace{name}",
                "summary": f"Replace a {name} (RFC 7644 §3.5.1).",
                "parameters": _param_refs(*projection, "IfMatch"),
                "requestBody": _body(
                    f"#/components/schemas/{name}Request", f"The whole {name}.", f"{name}Request"
                ),
                "responses": {
                    "200": _resource_response(name, f"The replaced {name}."),
                    **_errors(400, 404, 409, 412, 413, 415),
                },
            },
            "patch": {
                "operationId": f"patch{name}",
                "summary": f"Modify a {name} (RFC 7644 §3.5.2).",
                "parameters": _param_refs(*projection, "IfMatch"),
                "requestBody": _body("#/components/schemas/PatchOp", "The operations.", f"{name}Patch"),
                "responses": {**patch_responses, **_errors(400, 404, 409, 412, 413, 415)},
            },
            "delete": {
                "operationId": f"delete{name}",
                "summary": f"Delete a {name} (RFC 7644 §3.6).",
                "parameters": _param_refs("IfMatch"),
                "responses": {"204": {"description": "Deleted."}, **_errors(404, 412)},
            },
        },
    }


def _discovery_paths() -> dict[str, Any]:
    def listing(kind: str, op_id: str, summary: str) -> dict[str, Any]:
        return {
            "get": {
                "operationId": op_id,
                "summary": summary,
                "parameters": [
                    _query("filter", "Not supported on discovery endpoints: 403 (§4).", {"type": "string"})
                ],
                "responses": {
                    "200": {
                        "description": summary,
                        "content": {
                            urns.SCIM_MEDIA_TYPE: {
                                "schema": _list_response_schema({"$ref": f"#/components/schemas/{kind}"})
                            }
                        },
                    },
                    **_errors(),
                },
            }
        }

    def one(kind: str, op_id: str, param: str, summary: str) -> dict[str, Any]:
        return {
            "get": {
                "operationId": op_id,
                "summary": summary,
                "parameters": [{"name": param, "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": summary, "content": _json_content(f"#/components/schemas/{kind}")},
                    **_errors(404),
                },
            }
        }

    spc = {
        "get": {
            "operationId": "getServiceProviderConfig",
            "summary": "What this service provider supports (RFC 7644 §4).",
            "parameters": [
                _query("filter", "Not supported on discovery endpoints: 403 (§4).", {"type": "string"})
            ],
            "responses": {
                "200": {
                    "description": "The configuration.",
                    "content": _json_content("#/components/schemas/ServiceProviderConfig"),
                },
                **_errors(),
            },
        }
    }
    return {
        "/ServiceProviderConfig": spc,
        "/ResourceTypes": listing("ResourceType", "listResourceTypes", "The resource types (User, Group)."),
        "/ResourceTypes/{name}": one("ResourceType", "getResourceType", "name", "One resource type."),
        "/Schemas": listing("Schema", "listSchemas", "The schemas scimgate serves."),
        "/Schemas/{urn}": one("Schema", "getSchema", "urn", "One schema, by its URN."),
    }


def _other_paths() -> dict[str, Any]:
    not_implemented = {"501": {"$ref": "#/components/responses/Error501"}, **_errors()}
    me = {
        method: {
            "operationId": f"{method}Me",
            "summary": "The /Me alias (RFC 7644 §3.11) is not supported.",
            "responses": not_implemented,
        }
        for method in ("get", "post", "put", "patch", "delete")
    }
    return {
        "/.search": {
            "post": {
                "operationId": "searchAll",
                "summary": "Search Users then Groups with one query (RFC 7644 §3.4.3).",
                "requestBody": _body(
                    "#/components/schemas/SearchRequest", "The query (no cursor).", "SearchRequest"
                ),
                "responses": {
                    "200": {
                        "description": "A page of Users and Groups.",
                        "content": _json_content("#/components/schemas/ListResponse"),
                    },
                    **_errors(400, 413, 415),
                },
            }
        },
        "/Bulk": {
            "post": {
                "operationId": "bulk",
                "summary": "Bulk (RFC 7644 §3.7) is not supported.",
                "responses": not_implemented,
            }
        },
        "/Me": me,
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document.",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_errors(),
                },
            }
        },
    }


def build_document(server_url: str) -> dict[str, Any]:
    """The whole OpenAPI document for a server whose SCIM base URL is ``server_url``."""
    components_schemas: dict[str, Any] = {
        "User": resource_schema(schema.USER),
        "Group": resource_schema(schema.GROUP),
        "UserRequest": request_schema(schema.USER, payloads.USER_SCHEMA),
        "GroupRequest": request_schema(schema.GROUP, payloads.GROUP_SCHEMA),
        "PatchOp": _patch_op_schema(),
        "SearchRequest": _search_request_schema(),
        "UserListResponse": _list_response_schema({"$ref": "#/components/schemas/User"}),
        "GroupListResponse": _list_response_schema({"$ref": "#/components/schemas/Group"}),
        "ListResponse": _list_response_schema(
            {"anyOf": [{"$ref": "#/components/schemas/User"}, {"$ref": "#/components/schemas/Group"}]}
        ),
        "Error": _error_schema(),
        **_discovery_schemas(),
    }
    paths: dict[str, Any] = {}
    for resource in schema.RESOURCE_SCHEMAS.values():
        paths.update(_resource_paths(resource))
    paths.update(_other_paths())
    paths.update(_discovery_paths())
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "scimgate SCIM 2.0 API",
            "version": _version(),
            "description": (
                "RFC 7643/7644 service provider; docs/scim-behaviour.md has the readings chosen. "
                "Endpoint names are also served in any case and with one trailing slash "
                "(`/users/`); the paths below are the canonical ones scimgate links to."
            ),
        },
        "servers": [{"url": server_url}],
        "security": SECURITY,
        "paths": paths,
        "components": {
            "schemas": components_schemas,
            "parameters": _parameters(),
            "responses": {f"Error{k}": v for k, v in _error_responses().items()},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A SCIM bearer token."},
                "basicAuth": {"type": "http", "scheme": "basic", "description": "The SCIM service account."},
            },
        },
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scimgate")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout
        return "0"


def openapi_document() -> Response:
    """Serve the document; the server URL is this server's SCIM base URL."""
    response = scim_json(build_document(base_url()))
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    return response


def register(bp: Blueprint) -> None:
    """Register ``/openapi.json`` (authenticated like every SCIM route)."""
    bp.add_url_rule("/openapi.json", "openapi", openapi_document, methods=["GET"])
