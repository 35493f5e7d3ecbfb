"""The PATCH engine (RFC 7644 §3.5.2) over a resource rendered as a plain dict.

Pure functions: the services render a resource to a dict, apply the operations here and validate
and persist the result in one transaction, so several operations succeed or fail together.
Attributes that live in their own table (Group ``members``) are *delegated*: the engine hands
their operations, in order, to a callback instead of materialising them in the dict.

Readings chosen where the RFC is silent or its literal reading would destroy data (for every
client, not one IdP): path-less values are applied key by key, and a key may itself be a path
(``"name.givenName"``, a schema-qualified name); a complex value merges its sub-attributes
(§3.5.2.3) instead of clearing the others; ``add`` on a single-valued attribute replaces it;
``add`` through a value filter that matches nothing creates the element the filter describes;
``remove`` of a multi-valued attribute *with* a value list removes only those values.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from scimgate.scim import urns
from scimgate.scim.errors import InvalidPath, InvalidSyntax, InvalidValue, Mutability, NoTarget
from scimgate.scim.filter_eval import matches
from scimgate.scim.filters import And, Compare, Expr, PatchPath, parse_patch_path
from scimgate.scim.schema import Attribute, ResourceSchema

OPS = ("add", "remove", "replace")
MAX_OPERATIONS = 1000
IGNORED_KEYS = frozenset({"schemas", "meta"})


@dataclass(frozen=True)
class Operation:
    """One validated PATCH operation; ``path`` is None for a path-less add/replace."""

    op: str
    path: PatchPath | None
    raw_path: str | None
    value: Any
    has_value: bool


DelegateHandler = Callable[[Operation, Attribute], None]


def parse_operations(body: Any, max_operations: int = MAX_OPERATIONS) -> list[Operation]:
    """Check the PatchOp message shape (§3.5.2) and parse every path before anything is applied.

    RFC 7644 sets no limit on ``Operations``; more than ``max_operations`` is refused before any
    path is parsed (the server's setting is ``SCIM_MAX_PATCH_OPERATIONS``).
    """
    if not isinstance(body, dict):
        raise InvalidSyntax("A PATCH body must be a JSON object with 'schemas' and 'Operations'.")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or urns.PATCH_OP not in schemas:
        raise InvalidSyntax(f"A PATCH body must list '{urns.PATCH_OP}' in 'schemas'.")
    raw_ops = next((v for k, v in body.items() if k.lower() == "operations"), None)
    if not isinstance(raw_ops, list) or not raw_ops:
        raise InvalidSyntax("A PATCH body needs a non-empty 'Operations' array.")
    if len(raw_ops) > max_operations:
        raise InvalidValue(
            f"'Operations' has {len(raw_ops)} operations; a PATCH may carry at most {max_operations} "
            "(SCIM_MAX_PATCH_OPERATIONS)."
        )
    operations = []
    for index, raw in enumerate(raw_ops):
        if not isinstance(raw, dict):
            raise InvalidSyntax(f"Operations[{index}] must be an object with 'op', 'path' and 'value'.")
        fields = {k.lower(): v for k, v in raw.items()}
        op = fields.get("op")
        if op not in OPS:
            raise InvalidSyntax(
                f"Operations[{index}].op is {op!r}; it must be one of 'add', 'remove', 'replace'."
            )
        raw_path = fields.get("path")
        if raw_path is not None and not isinstance(raw_path, str):
            raise InvalidPath(f"Operations[{index}].path must be a string.")
        if raw_path is not None and not raw_path.strip():
            raw_path = None
        path = parse_patch_path(raw_path) if raw_path is not None else None
        has_value = "value" in fields
        if op == "remove" and path is None:
            raise NoTarget(f"Operations[{index}]: 'remove' needs a 'path' (RFC 7644 §3.5.2.2).")
        if op != "remove" and not has_value:
            raise InvalidValue(f"Operations[{index}]: '{op}' needs a 'value'.")
        if op != "remove" and path is None and not isinstance(fields["value"], dict):
            raise InvalidValue(
                f"Operations[{index}]: a '{op}' without 'path' needs an object 'value' whose keys "
                "are attribute names."
            )
        operations.append(Operation(op, path, raw_path, fields.get("value"), has_value))
    return operations


class PatchEngine:
    """Apply operations to a resource dict for one schema."""

    def __init__(
        self,
        schema: ResourceSchema,
        delegates: Mapping[str, DelegateHandler] | None = None,
    ) -> None:
        self.schema = schema
        self.delegates = {k.lower(): v for k, v in (delegates or {}).items()}

    def apply(self, resource: dict[str, Any], operations: list[Operation]) -> dict[str, Any]:
        """Return a patched deep copy of ``resource``; the input is left untouched."""
        result = copy.deepcopy(resource)
        for operation in operations:
            if operation.path is None:
                self._apply_pathless(result, operation)
            else:
                self._apply_path(result, operation, operation.path, operation.value, pathless=False)
        return result

    # -- path-less add/replace: each key is a path (§3.5.2.1, §3.5.2.3) --------------------------

    def _apply_pathless(self, resource: dict[str, Any], operation: Operation) -> None:
        for key, value in operation.value.items():
            if not isinstance(key, str) or key.lower() in IGNORED_KEYS:
                continue
            if key.lower() == self.schema.id.lower():
                if isinstance(value, dict):
                    nested = Operation(operation.op, None, None, value, True)
                    self._apply_pathless(resource, nested)
                continue
            if key.lower().startswith("urn:") and not key.lower().startswith(self.schema.id.lower() + ":"):
                continue  # an extension scimgate does not store (e.g. the enterprise User)
            try:
                path = parse_patch_path(key)
            except InvalidPath:
                continue  # not an attribute name: nothing scimgate stores
            self._apply_path(resource, operation, path, value, pathless=True)

    # -- one target --------------------------------------------------------------------------------

    def _apply_path(
        self, resource: dict[str, Any], operation: Operation, path: PatchPath, value: Any, *, pathless: bool
    ) -> None:
        if value is None and operation.op != "remove":
            # A null value unassigns the attribute (RFC 7643 §2.5), whatever its type.
            operation = Operation("remove", path, operation.raw_path, None, False)
        attr_path = path.path
        if attr_path.schema and attr_path.schema.lower() != self.schema.id.lower():
            return  # extension attributes are accepted and ignored
        attribute = self.schema.attribute(attr_path.attr)
        if attribute is None:
            return  # unsupported attribute: accepted and ignored
        if attribute.name.lower() in self.delegates:
            delegated = Operation(operation.op, path, operation.raw_path, value, operation.has_value)
            self.delegates[attribute.name.lower()](delegated, attribute)
            return
        if attribute.read_only:
            # Okta echoes the read-only id in a path-less replace (group rename), and clients send
            # ``groups: []`` inside path-less values: ignore them, but never let ``id`` change.
            if pathless and (attribute.name != "id" or resource.get("id") == value):
                return
            raise Mutability(f"'{attribute.name}' is read-only and cannot be changed with PATCH.")
        sub_name = attr_path.sub_attr or path.sub_attr
        if attribute.multi_valued:
            self._multi(
                resource, operation.op, attribute, path.value_filter, sub_name, value, operation.has_value
            )
            return
        if path.value_filter is not None:
            raise InvalidPath(f"'{attribute.name}' is single-valued; a value filter cannot apply to it.")
        if attribute.type == "complex":
            self._complex(resource, operation.op, attribute, sub_name, value)
            return
        if sub_name:
            raise InvalidPath(f"'{attribute.name}' has no sub-attribute '{sub_name}'.")
        if operation.op == "remove" or value is None:
            resource.pop(attribute.name, None)
        else:
            resource[attribute.name] = value

    def _complex(
        self, resource: dict[str, Any], op: str, attribute: Attribute, sub_name: str | None, value: Any
    ) -> None:
        current = resource.get(attribute.name)
        current = dict(current) if isinstance(current, dict) else {}
        if sub_name:
            sub = attribute.sub(sub_name)
            if sub is None:
                return  # an unsupported sub-attribute (e.g. name.middleName)
            if op == "remove" or value is None:
                current.pop(sub.name, None)
            else:
                current[sub.name] = value
        elif op == "remove":
            current = {}
        else:
            if not isinstance(value, dict):
                raise InvalidValue(f"'{attribute.name}' is complex; its value must be an object.")
            for key, sub_value in value.items():
                sub = attribute.sub(key) if isinstance(key, str) else None
                if sub is None:
                    continue
                if sub_value is None:
                    current.pop(sub.name, None)
                else:
                    current[sub.name] = sub_value
        if current:
            resource[attribute.name] = current
        else:
            resource.pop(attribute.name, None)

    def _multi(
        self,
        resource: dict[str, Any],
        op: str,
        attribute: Attribute,
        value_filter: Expr | None,
        sub_name: str | None,
        value: Any,
        has_value: bool,
    ) -> None:
        items: list[dict[str, Any]] = [dict(v) for v in resource.get(attribute.name) or []]
        sub = attribute.sub(sub_name) if sub_name else None
        if sub_name and sub is None:
            return  # unsupported sub-attribute
        if value_filter is None:
            items = self._multi_unfiltered(op, attribute, sub, value, has_value, items)
        else:
            items = self._multi_filtered(op, attribute, value_filter, sub, value, items)
        if items:
            resource[attribute.name] = items
        else:
            resource.pop(attribute.name, None)

    def _multi_unfiltered(
        self,
        op: str,
        attribute: Attribute,
        sub: Attribute | None,
        value: Any,
        has_value: bool,
        items: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        if sub is not None:
            if op == "remove":
                return [{k: v for k, v in item.items() if k != sub.name} for item in items]
            if not items:
                return [{sub.name: value}]
            for item in items:
                item[sub.name] = value
            return items
        if op == "remove":
            if not has_value or value is None:
                return []
            doomed = _as_list(value, attribute)
            return [item for item in items if not any(_same_value(item, d, attribute) for d in doomed)]
        new_items = _as_list(value, attribute)
        if op == "replace":
            return _one_primary(new_items, new_items)
        kept = [item for item in items if not any(_same_value(item, n, attribute) for n in new_items)]
        return _one_primary(kept + new_items, new_items)

    def _multi_filtered(
        self,
        op: str,
        attribute: Attribute,
        value_filter: Expr,
        sub: Attribute | None,
        value: Any,
        items: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        def case_exact(key: str) -> bool:
            found = attribute.sub(key.split(".")[-1])
            return bool(found and found.case_exact)

        hits = [i for i, item in enumerate(items) if matches(value_filter, item, case_exact=case_exact)]
        if op == "remove":
            if sub is not None:
                for i in hits:
                    items[i].pop(sub.name, None)
                return [item for item in items if item]
            return [item for i, item in enumerate(items) if i not in hits]
        if not hits:
            if op == "replace":
                raise NoTarget(f"No value of '{attribute.name}' matches the filter in the path.")
            items.append(_element_from_filter(value_filter, attribute))
            hits = [len(items) - 1]
        changed = []
        for i in hits:
            if sub is not None:
                items[i][sub.name] = value
            elif isinstance(value, dict):
                items[i].update({k: v for k, v in value.items() if attribute.sub(k) is not None})
            else:
                raise InvalidValue(f"The value for '{attribute.name}[...]' must be an object.")
            changed.append(items[i])
        return _one_primary(items, changed)


def _as_list(value: Any, attribute: Attribute) -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value]
    out = []
    for item in values:
        if not isinstance(item, dict):
            raise InvalidValue(
                f"Each value of '{attribute.name}' must be an object such as {{\"value\": ...}}."
            )
        out.append({k: v for k, v in item.items() if isinstance(k, str) and attribute.sub(k) is not None})
    return out


def _same_value(item: dict[str, Any], other: dict[str, Any], attribute: Attribute) -> bool:
    a, b = item.get("value"), other.get("value")
    if a is None or b is None:
        return False
    sub = attribute.sub("value")
    if sub is not None and not sub.case_exact and isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


def _one_primary(items: list[dict[str, Any]], changed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep one ``primary: true`` (RFC 7643 §2.4): a value just set as primary wins."""
    if any(item.get("primary") is True for item in changed):
        winner = next(item for item in reversed(changed) if item.get("primary") is True)
        for item in items:
            if item is not winner and item.get("primary") is True:
                item["primary"] = False
    return items


def _element_from_filter(value_filter: Expr, attribute: Attribute) -> dict[str, Any]:
    """Build the element an ``eq``-only filter describes (``emails[type eq "work"]``)."""
    element: dict[str, Any] = {}
    pending: list[Expr] = [value_filter]
    while pending:
        node = pending.pop()
        if isinstance(node, And):
            pending.extend([node.left, node.right])
        elif isinstance(node, Compare) and node.op == "eq" and attribute.sub(node.path.attr):
            element[attribute.sub(node.path.attr).name] = node.value  # type: ignore[union-attr]
        else:
            raise NoTarget(
                f"No value of '{attribute.name}' matches the filter, and only a filter made of "
                "'eq' comparisons joined by 'and' can describe a new one."
            )
    return element
