"""Marshmallow schemas that validate User and Group bodies at the edge (POST, PUT, PATCH result).

Strict on types (a number is not a string, ``"True"`` is not a boolean: per-IdP plugins coerce
what their IdP really sends before this runs), lenient on what scimgate does not store: unknown
attributes and extension data are dropped (``EXCLUDE``), and ``null`` means "not given".
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from scimgate import models
from scimgate.scim.errors import InvalidValue


class StrictBoolean(fields.Boolean):
    """A JSON boolean only: RFC 7643 §2.3.2 has no string or number spelling of true/false."""

    truthy = {True}  # marshmallow reads these class attributes
    falsy = {False}


def _text(max_length: int, *, required: bool = False, min_length: int = 0) -> fields.String:
    return fields.String(
        required=required,
        allow_none=not required,
        validate=validate.Length(min=min_length, max=max_length),
    )


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _drop_nulls(self, data: Any, **_: Any) -> Any:
        """Treat ``null`` attribute values as absent (RFC 7643 §2.5: null = unassigned)."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


class NameSchema(_Lenient):
    givenName = _text(models.FIRST_NAME_MAX)
    familyName = _text(models.LAST_NAME_MAX)


class EmailSchema(_Lenient):
    value = _text(models.EMAIL_MAX)
    type = _text(64)
    primary = StrictBoolean(allow_none=True)


class UserSchema(_Lenient):
    schemas = fields.List(fields.String(), allow_none=True)
    userName = _text(models.USERNAME_MAX, required=True, min_length=1)
    name = fields.Nested(NameSchema, allow_none=True)
    displayName = _text(models.DISPLAY_NAME_MAX)
    emails = fields.List(fields.Nested(EmailSchema), allow_none=True)
    active = StrictBoolean(allow_none=True)
    externalId = _text(models.EXTERNAL_ID_MAX)


class GroupSchema(_Lenient):
    schemas = fields.List(fields.String(), allow_none=True)
    displayName = _text(models.GROUP_NAME_MAX, required=True, min_length=1)
    externalId = _text(models.EXTERNAL_ID_MAX)
    members = fields.Raw(allow_none=True)


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        out: list[str] = []
        for key, value in messages.items():
            label = f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else key)
            out.extend(_flatten(value, label))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {' '.join(messages)}"]
    return [f"{prefix}: {messages}"]


def load(schema: Schema, data: Any, core_urn: str) -> dict[str, Any]:
    """Validate ``data``; raise ``InvalidValue`` naming every offending attribute."""
    if not isinstance(data, dict):
        raise InvalidValue("The request body must be a JSON object.")
    schemas = data.get("schemas")
    if isinstance(schemas, list) and schemas and core_urn not in schemas:
        raise InvalidValue(f"'schemas' must include '{core_urn}' for this endpoint; got {schemas}.")
    try:
        return schema.load(data)
    except ValidationError as err:
        raise InvalidValue("; ".join(_flatten(err.messages))) from None


USER_SCHEMA = UserSchema()
GROUP_SCHEMA = GroupSchema()
