"""The ``attributes`` and ``excludedAttributes`` parameters (RFC 7644 §3.4.2.5, §3.9).

Projection works on the rendered resource, and ``Projection.wants`` tells the services in advance
whether an expensive attribute (Group ``members``, User ``groups``) is needed at all, so that a
group read with ``excludedAttributes=members`` never loads a membership row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from scimgate.scim.errors import InvalidValue
from scimgate.scim.schema import ResourceSchema

ALWAYS = frozenset({"schemas", "id"})

# RFC 7644 §3.10 / RFC 7643 §2.1: [schema URN ":"] ATTRNAME ["." subAttr], where ATTRNAME is
# ALPHA *(ALPHA / DIGIT / "-" / "_") ("$ref" too: ``members.$ref``). A filter (``emails[...]``) is
# no attribute path: it used to be silently dropped, returning data the IdP did not ask for.
_NAME = r"(?:[A-Za-z][\w-]*|\$ref)"
_ATTRIBUTE_PATH = re.compile(rf"(?:urn:[A-Za-z0-9.:_-]+:)?{_NAME}(?:\.{_NAME})?", re.ASCII)
_SHOWN_MAX = 60


def _split(raw: str | list[str] | None, parameter: str) -> list[str]:
    """The attribute paths of one parameter; 400 ``invalidValue`` for anything that is not one."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else raw.split(",")
    paths = [item.strip() for item in items if isinstance(item, str) and item.strip()]
    for path in paths:
        if not _ATTRIBUTE_PATH.fullmatch(path):
            shown = path if len(path) <= _SHOWN_MAX else path[: _SHOWN_MAX - 1] + "\u2026"
            raise InvalidValue(
                f"'{parameter}' must list attribute paths such as 'userName' or 'name.givenName' "
                f"(RFC 7644 §3.10); {shown!r} is not an attribute path (filters are not allowed here).",
                attribute=parameter,
            )
    return paths


def _relative(path: str, schema: ResourceSchema) -> tuple[str, str | None] | None:
    """Turn ``urn:...:User:name.givenName`` into ("name", "givenname"); None for other schemas."""
    lowered = path.lower()
    prefix = schema.id.lower() + ":"
    if lowered.startswith(prefix):
        lowered = lowered[len(prefix) :]
    elif lowered.startswith("urn:"):
        return None
    top, _, sub = lowered.partition(".")
    return top, (sub or None)


@dataclass(frozen=True)
class Projection:
    """A parsed attributes/excludedAttributes pair for one resource type."""

    schema: ResourceSchema
    include: dict[str, set[str] | None] | None
    exclude: dict[str, set[str] | None]

    @classmethod
    def parse(
        cls,
        schema: ResourceSchema,
        attributes: str | list[str] | None = None,
        excluded: str | list[str] | None = None,
    ) -> Projection:
        """Parse the two parameters; when both are given, ``attributes`` wins (§3.4.2.5)."""
        include_paths = _split(attributes, "attributes")
        excluded_paths = _split(excluded, "excludedAttributes")
        include: dict[str, set[str] | None] | None = None
        exclude: dict[str, set[str] | None] = {}
        if include_paths:
            include = {}
            for path in include_paths:
                rel = _relative(path, schema)
                if rel is None:
                    continue
                top, sub = rel
                if sub is None or include.get(top, set()) is None:
                    include[top] = None
                else:
                    include.setdefault(top, set()).add(sub)  # type: ignore[union-attr]
        else:
            for path in excluded_paths:
                rel = _relative(path, schema)
                if rel is None:
                    continue
                top, sub = rel
                if sub is None or exclude.get(top, set()) is None:
                    exclude[top] = None
                else:
                    exclude.setdefault(top, set()).add(sub)  # type: ignore[union-attr]
        return cls(schema, include, exclude)

    def wants(self, attribute: str) -> bool:
        """True when the top-level ``attribute`` will appear in the response."""
        key = attribute.lower()
        if key in ALWAYS:
            return True
        if self.include is not None:
            return key in self.include
        return self.exclude.get(key, set()) is not None

    def requests(self, attribute: str, sub_attribute: str) -> bool:
        """True when ``attribute.sub_attribute`` is named in ``attributes`` (for ``returned: request``)."""
        if self.include is None:
            return False
        subs = self.include.get(attribute.lower(), set())
        return subs is not None and sub_attribute.lower() in subs

    def apply(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Return ``resource`` reduced to what the parameters ask for."""
        if self.include is None and not self.exclude:
            return resource
        out: dict[str, Any] = {}
        for name, value in resource.items():
            key = name.lower()
            if key in ALWAYS:
                out[name] = value
                continue
            if self.include is not None:
                if key not in self.include:
                    continue
                subs = self.include[key]
                out[name] = value if subs is None else _keep_subs(value, subs)
            else:
                if key not in self.exclude:
                    out[name] = value
                    continue
                subs = self.exclude[key]
                if subs is not None:
                    out[name] = _drop_subs(value, subs)
        return {k: v for k, v in out.items() if v not in (None, {}, [])}


def _keep_subs(value: Any, subs: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() in subs}
    if isinstance(value, list):
        kept = [_keep_subs(v, subs) for v in value]
        return [v for v in kept if v]
    return value


def _drop_subs(value: Any, subs: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() not in subs}
    if isinstance(value, list):
        return [_drop_subs(v, subs) for v in value]
    return value
