"""Marshmallow schemas that validate User and Group bodies at the edge (POST, PUT, PATCH result).

Strict on types (a number is not a string, ``"True"`` is not a boolean: per-IdP plugins coerce
what their IdP really sends before this runs), lenient on what scimgate does not store: unknown
attributes and extension data are dropped (``EXCLUDE``), and ``null`` means "not given".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from flask import current_app
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from scimgate import models
from scimgate.scim import safe_text
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


class SubAttributes(fields.Field):
    """A complex attribute (``name``, one of ``emails``): a JSON object whose few sub-attributes
    are plain fields, read like a lenient nested schema (unknown keys dropped, ``null`` = not
    given, errors keyed by sub-attribute) without a whole ``Schema.load`` per value, which was
    two thirds of a user's validation."""

    default_error_messages = {"type": "Must be a JSON object."}

    def __init__(self, members: dict[str, fields.Field], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.members = members

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.make_error("type")
        out: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for key, field in self.members.items():
            raw = value.get(key)
            if raw is None:
                continue
            try:
                out[key] = field.deserialize(raw, key, value)
            except ValidationError as error:
                errors[key] = error.messages
        if errors:
            raise ValidationError(errors)
        return out


NAME = {"givenName": _text(models.FIRST_NAME_MAX), "familyName": _text(models.LAST_NAME_MAX)}
EMAIL = {"value": _text(models.EMAIL_MAX), "type": _text(64), "primary": StrictBoolean(allow_none=True)}


class UserSchema(_Lenient):
    schemas = fields.List(fields.String(), allow_none=True)
    userName = _text(models.USERNAME_MAX, required=True, min_length=1)
    name = SubAttributes(NAME, allow_none=True)
    displayName = _text(models.DISPLAY_NAME_MAX)
    emails = fields.List(SubAttributes(EMAIL), allow_none=True)
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


# The setting that caps the values of a multi-valued attribute in one request; any other
# multi-valued attribute (emails, phoneNumbers, addresses, an extension's lists...) gets the default.
VALUE_LIMIT_SETTINGS = {"members": "SCIM_MAX_MEMBERS_PER_REQUEST"}
DEFAULT_VALUE_LIMIT_SETTING = "SCIM_MAX_MULTI_VALUES"


def value_limit(attribute: str, config: Mapping[str, Any]) -> tuple[int, str]:
    """How many values of ``attribute`` one request may carry, and the setting that says so."""
    setting = VALUE_LIMIT_SETTINGS.get(attribute.lower(), DEFAULT_VALUE_LIMIT_SETTING)
    return int(config[setting]), setting


def check_value_count(attribute: str, count: int, config: Mapping[str, Any]) -> None:
    """Refuse ``count`` values of ``attribute`` above its cap with a detail naming both."""
    limit, setting = value_limit(attribute, config)
    if count > limit:
        raise InvalidValue(
            f"'{attribute}' has {count} values; one request may carry at most {limit} ({setting})."
        )


def check_value_counts(data: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Cap every multi-valued attribute of a body, including those inside extension objects.

    Checked before validation so a body of a million ``emails`` is refused on its length alone,
    not after a million sub-attribute checks (attributes scimgate drops are capped too).
    """
    for key, value in data.items():
        if isinstance(value, list):
            check_value_count(key, len(value), config)
        elif isinstance(value, dict) and key.lower().startswith("urn:"):
            check_value_counts(value, config)


def _check_schemas(schemas: Any, core_urn: str) -> None:
    """``schemas`` is required and lists the endpoint's core schema (RFC 7643 §3); other URNs
    beside it (extensions, Entra's ADSCIM Group URN) are accepted. A client's plugin may add it
    for an IdP known to omit it (``scimgate_normalize_request``, docs/plugins.md)."""
    if schemas is None or schemas == []:
        raise InvalidValue(
            f'\'schemas\' is required (RFC 7643 §3): send "schemas": ["{core_urn}"] with the resource.'
        )
    if not isinstance(schemas, list) or not all(isinstance(urn, str) for urn in schemas):
        raise InvalidValue(f"'schemas' must be a list of schema URNs including '{core_urn}'.")
    if core_urn not in schemas:
        shown = safe_text.escape(schemas)
        raise InvalidValue(f"'schemas' must include '{core_urn}' for this endpoint; got {shown}.")


def load(schema: Schema, data: Any, core_urn: str) -> dict[str, Any]:
    """Validate ``data``; raise ``InvalidValue`` naming every offending attribute."""
    if not isinstance(data, dict):
        raise InvalidValue("The request body must be a JSON object.")
    check_value_counts(data, current_app.config)
    _check_schemas(data.get("schemas"), core_urn)
    try:
        return schema.load(data)
    except ValidationError as err:
        raise InvalidValue("; ".join(_flatten(err.messages))) from None


USER_SCHEMA = UserSchema()
GROUP_SCHEMA = GroupSchema()


# Keys of a validated body that scimgate does not store as text (members are ids, checked apart).
_NOT_STORED_TEXT = frozenset({"schemas", "members"})

Stored = Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None


def _texts(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a validated body with its attribute path (``name.givenName``,
    ``emails.value``: list positions left out)."""
    for key, value in data.items():
        if key in _NOT_STORED_TEXT:
            continue
        label = f"{prefix}{key}"
        if isinstance(value, str):
            yield label, value
        elif isinstance(value, Mapping):
            yield from _texts(value, f"{label}.")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    yield from _texts(item, f"{label}.")


def refuse_unsafe_text(data: Mapping[str, Any], stored: Stored = None) -> None:
    """400 ``invalidValue`` when a name would store a control character, a line break or a bidi
    override (``scimgate.scim.safe_text``: they forge log and audit lines and drive terminals).

    ``stored`` is the resource as it is now (or a function returning it, called only when an unsafe
    value is found): a value equal to the stored one at the same attribute is let through, so a
    user saved before this rule can still be deactivated by an IdP that sends its old name back.
    """
    unsafe = [(label, value) for label, value in _texts(data) if safe_text.UNSAFE.search(value)]
    if not unsafe:
        return
    current = stored() if callable(stored) else stored
    kept = set(_texts(current)) if current is not None else set()
    problems = [
        safe_text.unsafe_character_problem(value, label)
        for label, value in unsafe
        if (label, value) not in kept
    ]
    if problems:
        raise InvalidValue("; ".join(p for p in problems if p) + ".")
