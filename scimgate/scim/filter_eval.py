"""Evaluate a filter AST against a SCIM resource held as JSON-like dicts (RFC 7644 §3.4.2.2).

Two callers need this without a database: PATCH, to pick the values of a multi-valued attribute a
path such as ``emails[type eq "work"]`` selects (RFC 7644 §3.5.2), and the property tests, which
use it as the reference that the SQL translation must agree with.  The rules are therefore the
same as :mod:`scimgate.scim.filter_sql`'s:

* Attribute names are matched case-insensitively; a multi-valued attribute matches if ANY of its
  values matches (§3.4.2.2).  A complex value compared without a sub-attribute is compared through
  its ``value`` sub-attribute (``emails co "x"`` ≡ ``emails.value co "x"``).
* A missing or ``null`` value matches no operator except ``ne``: an absent value is "not equal" to
  anything.  A multi-valued attribute with no values at all likewise matches ``ne`` only.
* ``pr``: present and not ``null``, ``""``, ``[]`` or a complex value with nothing present in it.
* ``eq null`` ≡ ``not (attr pr)`` and ``ne null`` ≡ ``attr pr``; ``null`` with any other operator
  is an error (the RFC is silent; this is the only reading that needs no three-valued logic).
* Strings compare case-insensitively unless ``case_exact(key)`` says the attribute is caseExact
  (RFC 7643 §2.2); ``key`` is the lower-cased ``attr`` or ``attr.sub`` (``"emails.value"``).
  Ordering on strings is by code point; when both sides are ISO 8601 dateTimes (RFC 7643 §2.3.5)
  ``eq``/``ne``/``gt``/``ge``/``lt``/``le`` compare instants instead (so ``Z`` equals ``+00:00``).
* Values of different JSON types never compare equal (so they match ``ne`` only).

Errors are raised only for defects visible in the filter itself, never because of the data:
ordering or substring operators on ``true``/``false``, substring operators on a non-string, and
``null`` with anything but ``eq``/``ne`` raise :class:`~scimgate.scim.errors.InvalidFilter`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from scimgate.scim.errors import InvalidFilter
from scimgate.scim.filters import (
    And,
    AttrPath,
    Compare,
    Expr,
    Not,
    Or,
    Present,
    Value,
    ValuePath,
    operands,
)

CaseExact = Callable[[str], bool]

ORDERING_OPS = frozenset({"gt", "ge", "lt", "le"})
SUBSTRING_OPS = frozenset({"co", "sw", "ew"})
EQUALITY_OPS = frozenset({"eq", "ne"})

_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?", re.IGNORECASE)


def parse_datetime(text: str) -> datetime | None:
    """An xsd:dateTime (RFC 7643 §2.3.5) as a naive UTC datetime, or None if it is not one.

    Stricter than :meth:`datetime.fromisoformat`, which would also read ``"20110513"``: a date and
    a time are required.  A value without an offset is taken to be UTC.
    """
    if not isinstance(text, str) or not _DATETIME.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text.upper())
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None
    return moment


def check_operator(op: str, value: Value) -> None:
    """Reject operator/value pairs that can never be meaningful, whatever the attribute."""
    if value is None and op not in EQUALITY_OPS:
        raise InvalidFilter(f"'{op}' cannot compare with null; only 'eq null' and 'ne null' are supported")
    if isinstance(value, bool) and op not in EQUALITY_OPS:
        raise InvalidFilter(f"'{op}' cannot compare with {str(value).lower()}; booleans support eq and ne")
    if op in SUBSTRING_OPS and not isinstance(value, str):
        raise InvalidFilter(f"'{op}' needs a string value, not {value!r}")


def _never(_key: str) -> bool:
    return False


def matches(
    expr: Expr,
    resource: Mapping[str, Any],
    case_exact: CaseExact | None = None,
    *,
    parent: str | None = None,
) -> bool:
    """True if ``resource`` satisfies ``expr``.

    ``parent`` names the multi-valued attribute when ``resource`` is one of its values and
    ``expr`` is the inside of a value filter (PATCH ``emails[type eq "work"]``): it makes the
    ``case_exact`` keys ``"emails.type"`` rather than ``"type"``.
    """
    prefix = f"{parent.lower()}." if parent else ""
    return _eval(expr, resource, prefix, case_exact or _never)


def _eval(expr: Expr, container: Any, prefix: str, case_exact: CaseExact) -> bool:
    if isinstance(expr, And):
        return all(_eval(part, container, prefix, case_exact) for part in operands(expr))
    if isinstance(expr, Or):
        return any(_eval(part, container, prefix, case_exact) for part in operands(expr))
    if isinstance(expr, Not):
        return not _eval(expr.expr, container, prefix, case_exact)
    if isinstance(expr, Present):
        return any(_present(v) for v in _values(container, expr.path))
    if isinstance(expr, ValuePath):
        inner_prefix = f"{prefix}{expr.path.key}."
        for element in _values(container, expr.path):
            if element is None:
                continue
            item = element if isinstance(element, Mapping) else {"value": element}
            if _eval(expr.filter, item, inner_prefix, case_exact):
                return True
        return False
    return _compare_attr(expr, container, prefix, case_exact)


def _compare_attr(expr: Compare, container: Any, prefix: str, case_exact: CaseExact) -> bool:
    check_operator(expr.op, expr.value)
    values = _values(container, expr.path)
    if expr.value is None:
        present = any(_present(v) for v in values)
        return not present if expr.op == "eq" else present
    if not values:
        return expr.op == "ne"
    key = prefix + expr.path.key
    return any(_compare(v, expr.op, expr.value, key, case_exact) for v in values)


def _compare(actual: Any, op: str, expected: Value, key: str, case_exact: CaseExact) -> bool:
    if isinstance(actual, Mapping):
        actual = _lookup(actual, "value")
        key = f"{key}.value"
    if actual is None:
        return op == "ne"
    if isinstance(expected, bool) or isinstance(actual, bool):
        same = isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
        return _order_result(op, same, False)
    if isinstance(expected, int | float):
        if not isinstance(actual, int | float | Decimal):
            return op == "ne"
        return _order(actual, op, expected)
    if not isinstance(actual, str) or not isinstance(expected, str):
        return op == "ne"
    if op not in SUBSTRING_OPS:
        when_actual, when_expected = parse_datetime(actual), parse_datetime(expected)
        if when_actual is not None and when_expected is not None:
            return _order(when_actual, op, when_expected)
    if not case_exact(key):
        actual, expected = actual.lower(), expected.lower()
    if op == "co":
        return expected in actual
    if op == "sw":
        return actual.startswith(expected)
    if op == "ew":
        return actual.endswith(expected)
    return _order(actual, op, expected)


def _order_result(op: str, equal: bool, ordered: bool) -> bool:
    if op == "eq":
        return equal
    if op == "ne":
        return not equal
    return ordered


def _order(actual: Any, op: str, expected: Any) -> bool:
    match op:
        case "eq":
            return bool(actual == expected)
        case "ne":
            return bool(actual != expected)
        case "gt":
            return bool(actual > expected)
        case "ge":
            return bool(actual >= expected)
        case "lt":
            return bool(actual < expected)
        case "le":
            return bool(actual <= expected)
    raise InvalidFilter(f"'{op}' is not a comparison operator")


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value != ""
    if isinstance(value, list | tuple):
        return any(_present(v) for v in value)
    if isinstance(value, Mapping):
        return any(_present(v) for v in value.values())
    return True


def _lookup(container: Any, name: str) -> Any:
    """Case-insensitive member access (RFC 7644 §3.4.2.2: attribute names ignore case)."""
    if not isinstance(container, Mapping):
        return None
    if name in container:
        return container[name]
    folded = name.lower()
    for key, value in container.items():
        if isinstance(key, str) and key.lower() == folded:
            return value
    return None


def _schema_base(container: Any, schema: str) -> Any:
    """Where a URN-qualified attribute lives: an extension's sub-object, or the core body.

    RFC 7643 §3.3 puts extension attributes under their schema URN; core attributes sit at the
    top level, so a URN that is not a key is the core schema when it is the first of
    ``schemas`` (or ``schemas`` is absent).  Anything else names a schema the resource lacks.
    """
    extension = _lookup(container, schema)
    if isinstance(extension, Mapping):
        return extension
    schemas = _lookup(container, "schemas")
    if not isinstance(schemas, list) or not schemas:
        return container
    first = schemas[0]
    return container if isinstance(first, str) and first.lower() == schema.lower() else None


def _values(container: Any, path: AttrPath) -> list[Any]:
    """All values ``path`` reaches: ``[]`` for a multi-valued attribute with none, else a list
    that may contain ``None`` for a missing single value."""
    base = container if path.schema is None else _schema_base(container, path.schema)
    top = _lookup(base, path.attr)
    if path.sub_attr is None:
        return list(top) if isinstance(top, list | tuple) else [top]
    if isinstance(top, list | tuple):
        found: list[Any] = []
        for element in top:
            value = _lookup(element, path.sub_attr)
            found.extend(value if isinstance(value, list | tuple) else [value])
        return found
    return [_lookup(top, path.sub_attr)]
