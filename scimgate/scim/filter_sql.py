"""Translate a filter AST (RFC 7644 §3.4.2.2) into a SQLAlchemy boolean expression.

The caller describes its storage with an :data:`AttributeMap`; this module only builds an
expression (it never executes anything) and gives the same answers as
:func:`scimgate.scim.filter_eval.matches` on SQLite and on PostgreSQL.  Decisions:

* Every atomic predicate is two-valued (TRUE/FALSE, never NULL), so ``not (...)`` is exact.
* ``ne`` matches a NULL column: an absent value is "not equal" to anything.  On a multi-valued
  attribute ``ne`` matches if ANY value differs (§3.4.2.2's "any of the values" rule) or if the
  attribute has no values at all.
* ``eq null`` ≡ ``not (attr pr)``, ``ne null`` ≡ ``attr pr``; ``pr`` is ``IS NOT NULL`` (and
  ``<> ''`` for strings); ``members pr`` (no sub-attribute) means "has at least one value".
* caseExact=False compares ``lower(column)`` with ``lower(value)``, both lowered by the database
  so the folding is the same on both sides (SQLite's ``lower`` folds ASCII only).
* ``co``/``sw``/``ew`` use ``replace``/``substr``/``length``, not ``LIKE``: SQLite's ``LIKE`` is
  case-insensitive for ASCII and PostgreSQL's is not, and these functions are case-sensitive on
  both, so caseExact holds everywhere and there are no wildcards to escape.
* ``gt``/``ge``/``lt``/``le`` on strings order by code point: on PostgreSQL with
  ``COLLATE "C"``, on SQLite by its default BINARY collation — the order Python uses.
* dateTime values are parsed (ISO 8601 with ``Z`` or an offset, RFC 7643 §2.3.5) to naive UTC
  datetimes, matching naive-UTC ``DateTime`` columns.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from scimgate.scim.errors import InvalidFilter
from scimgate.scim.filter_eval import (
    EQUALITY_OPS,
    ORDERING_OPS,
    SUBSTRING_OPS,
    check_operator,
    parse_datetime,
)
from scimgate.scim.filters import And, AttrPath, Expr, Not, Or, Present, Value, ValuePath, operands

ColumnType = Literal["string", "boolean", "dateTime", "integer", "decimal", "reference", "binary"]

_INT64 = 2**63


@dataclass(frozen=True)
class Column:
    """A simple (single-valued) attribute and how it is stored (RFC 7643 §2.3 data types)."""

    expr: ColumnElement[Any]
    type: ColumnType
    case_exact: bool
    filterable: bool = True


@dataclass(frozen=True)
class MultiValued:
    """A multi-valued complex attribute (``emails``, ``members``) whose values may live elsewhere.

    ``wrap(condition)`` must return an expression that is true when SOME value satisfies
    ``condition`` — typically ``EXISTS (SELECT 1 FROM child WHERE child.owner = parent.id AND
    condition)``, or ``condition`` itself when the value sits in the parent row.  Keys of
    ``sub_attributes`` are lower-case; ``default_sub`` is what ``emails eq "x"`` compares.
    """

    sub_attributes: Mapping[str, Column]
    wrap: Callable[[ColumnElement[bool]], ColumnElement[bool]]
    default_sub: str = "value"


AttributeMap = Mapping[str, Column | MultiValued]
"""Keyed by lower-cased ``attr`` or ``attr.sub``; a key may also be URN-qualified
(``urn:...:enterprise:2.0:user:employeenumber``) to bind a name to one schema only."""


class _CodePointOrder(FunctionElement[str]):
    """``expr COLLATE "C"`` on PostgreSQL, ``expr`` elsewhere: string order by code point."""

    type = sa.String()
    name = "scim_code_point_order"
    inherit_cache = True


@compiles(_CodePointOrder)
def _code_point_default(element: _CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_CodePointOrder, "postgresql")
def _code_point_postgresql(element: _CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)}) COLLATE "C"'


@dataclass(frozen=True)
class _Target:
    """Where an attribute path leads: a column, and how to reach it from the resource row."""

    column: Column
    name: str
    wrap: Callable[[ColumnElement[bool]], ColumnElement[bool]] | None = None
    whole: bool = False  # the multi-valued attribute itself, not one of its sub-attributes


def to_sql(expr: Expr, attributes: AttributeMap, schema_urns: Collection[str]) -> ColumnElement[bool]:
    """The SQL condition selecting exactly the resources that satisfy ``expr``.

    Raises :class:`InvalidFilter` for a URN outside ``schema_urns``, an unknown or unfilterable
    attribute, or an operator/value that the attribute's type does not support.
    """
    return _Translator(attributes, {urn.lower() for urn in schema_urns}).translate(expr)


class _Translator:
    def __init__(self, attributes: AttributeMap, schema_urns: set[str]) -> None:
        self.attributes = attributes
        self.schema_urns = schema_urns

    def translate(self, expr: Expr) -> ColumnElement[bool]:
        if isinstance(expr, And):
            return sa.and_(*(self.translate(part) for part in operands(expr)))
        if isinstance(expr, Or):
            return sa.or_(*(self.translate(part) for part in operands(expr)))
        if isinstance(expr, Not):
            return sa.not_(self.translate(expr.expr))
        if isinstance(expr, ValuePath):
            return self._value_path(expr)
        target = self._resolve(expr.path)
        if isinstance(expr, Present):
            return _on_some_value(target, _present(target))
        return _compare(target, expr.op, expr.value)

    def _value_path(self, expr: ValuePath) -> ColumnElement[bool]:
        self._check_schema(expr.path)
        multi = self._find(expr.path, expr.path.key)
        if not isinstance(multi, MultiValued):
            raise InvalidFilter(f"'{expr.path}' is not a multi-valued attribute, so '[...]' cannot filter it")

        def inner(node: Expr) -> ColumnElement[bool]:
            if isinstance(node, And):
                return sa.and_(*(inner(part) for part in operands(node)))
            if isinstance(node, Or):
                return sa.or_(*(inner(part) for part in operands(node)))
            if isinstance(node, Not):
                return sa.not_(inner(node.expr))
            if isinstance(node, ValuePath):  # the parser never builds this
                raise InvalidFilter("Value filters cannot be nested")
            name = f"{expr.path}.{node.path.attr}"
            column = multi.sub_attributes.get(node.path.attr.lower())
            if column is None:
                raise self._unknown(name)
            target = _Target(_filterable(column, name), name)
            if isinstance(node, Present):
                return _present(target)
            return _compare(target, node.op, node.value)

        # One wrap around the whole inner filter: the SAME value must satisfy all of it.
        return multi.wrap(inner(expr.filter))

    def _check_schema(self, path: AttrPath) -> None:
        if path.schema is not None and path.schema.lower() not in self.schema_urns:
            supported = ", ".join(sorted(self.schema_urns)) or "none"
            raise InvalidFilter(
                f"Schema '{path.schema}' is not supported in this filter; supported: {supported}"
            )

    def _find(self, path: AttrPath, key: str) -> Column | MultiValued | None:
        """A URN-qualified map entry wins over the bare name, so extensions can disambiguate."""
        if path.schema is not None:
            qualified = self.attributes.get(f"{path.schema.lower()}:{key}")
            if qualified is not None:
                return qualified
        return self.attributes.get(key)

    def _resolve(self, path: AttrPath) -> _Target:
        self._check_schema(path)
        name = str(path)
        found = self._find(path, path.key)
        if isinstance(found, Column):
            return _Target(_filterable(found, name), name)
        if isinstance(found, MultiValued):
            # ``emails eq "x"`` means ``emails.value eq "x"`` (RFC 7644 §3.4.2.2 example).
            column = found.sub_attributes.get(found.default_sub.lower())
            if column is None:
                raise self._unknown(name)
            return _Target(_filterable(column, name), name, found.wrap, whole=True)
        if path.sub_attr is not None:
            parent = self._find(path, path.attr.lower())
            if isinstance(parent, MultiValued):
                column = parent.sub_attributes.get(path.sub_attr.lower())
                if column is not None:
                    return _Target(_filterable(column, name), name, parent.wrap)
        raise self._unknown(name)

    def _unknown(self, name: str) -> InvalidFilter:
        supported: list[str] = []
        for key, entry in self.attributes.items():
            if isinstance(entry, MultiValued):
                supported.append(key)
                subs = entry.sub_attributes.items()
                supported.extend(f"{key}.{sub}" for sub, col in subs if col.filterable)
            elif entry.filterable:
                supported.append(key)
        listed = ", ".join(sorted(supported)) or "none"
        return InvalidFilter(f"'{name}' is not a supported filter attribute; supported: {listed}")


def _filterable(column: Column, name: str) -> Column:
    if not column.filterable:
        raise InvalidFilter(f"'{name}' cannot be used in a filter")
    return column


def _on_some_value(target: _Target, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return condition if target.wrap is None else target.wrap(condition)


def _present(target: _Target) -> ColumnElement[bool]:
    """``pr`` (RFC 7644 §3.4.2.2): has a non-empty value; a multi-valued attribute has any value."""
    if target.whole:
        return sa.true()
    column = target.column
    if column.type in ("string", "reference"):
        return sa.and_(column.expr.is_not(None), column.expr != "")
    return column.expr.is_not(None)


def _compare(target: _Target, op: str, value: Value) -> ColumnElement[bool]:
    check_operator(op, value)
    if value is None:
        present = _on_some_value(target, _present(target))
        return sa.not_(present) if op == "eq" else present
    condition = _predicate(target.column, op, value, target.name)
    column = target.column.expr
    if op == "ne":
        condition = sa.or_(column.is_(None), condition)
        if target.wrap is not None:
            # Some value differs, or there is no value at all (absent is "not equal").
            return sa.or_(target.wrap(condition), sa.not_(target.wrap(sa.true())))
        return condition
    return _on_some_value(target, sa.and_(column.is_not(None), condition))


def _predicate(column: Column, op: str, value: Value, name: str) -> ColumnElement[bool]:
    """The comparison for a non-NULL column value; the caller adds the NULL handling."""
    kind = column.type
    if kind in ("string", "reference"):
        if not isinstance(value, str):
            raise InvalidFilter(f"'{name}' is a string attribute; compare it with a string, not {value!r}")
        return _string_predicate(column, op, value)
    if op in SUBSTRING_OPS:
        raise InvalidFilter(f"'{op}' is not supported for '{name}' (a {kind} attribute)")
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidFilter(f"'{name}' is a boolean attribute; compare it with true or false")
        return _binary_op(column.expr, op, sa.literal(value, sa.Boolean()))
    if kind in ("integer", "decimal"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidFilter(f"'{name}' is a number attribute; compare it with a number, not {value!r}")
        if isinstance(value, int):
            if not -_INT64 <= value < _INT64:
                raise InvalidFilter(f"{value} is out of range for '{name}'")
            return _binary_op(column.expr, op, sa.literal(value, sa.BigInteger()))
        return _binary_op(column.expr, op, sa.literal(value, sa.Float()))
    if kind == "dateTime":
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise InvalidFilter(
                f"'{name}' is a dateTime attribute; compare it with an ISO 8601 string such as "
                f'"2011-05-13T04:42:34Z", not {value!r}'
            )
        return _binary_op(column.expr, op, sa.literal(moment, sa.DateTime()))
    if kind == "binary":
        if op not in EQUALITY_OPS:
            raise InvalidFilter(f"'{op}' is not supported for '{name}' (a binary attribute)")
        try:
            raw = base64.b64decode(value, validate=True) if isinstance(value, str) else None
        except (binascii.Error, ValueError):
            raw = None
        if raw is None:
            raise InvalidFilter(f"'{name}' is a binary attribute; compare it with a base64 string")
        return _binary_op(column.expr, op, sa.literal(raw, sa.LargeBinary()))
    raise InvalidFilter(f"'{name}' has an unsupported type {kind!r}")


def _binary_op(left: Any, op: str, right: Any) -> ColumnElement[bool]:
    match op:
        case "eq":
            return left == right  # type: ignore[no-any-return]
        case "ne":
            return left != right  # type: ignore[no-any-return]
        case "gt":
            return left > right  # type: ignore[no-any-return]
        case "ge":
            return left >= right  # type: ignore[no-any-return]
        case "lt":
            return left < right  # type: ignore[no-any-return]
        case "le":
            return left <= right  # type: ignore[no-any-return]
    raise InvalidFilter(f"'{op}' is not a comparison operator")


def _string_predicate(column: Column, op: str, value: str) -> ColumnElement[bool]:
    """String operators with identical results on SQLite and PostgreSQL (RFC 7644 Table 3)."""
    attr: ColumnElement[Any] = column.expr
    needle: ColumnElement[Any] = sa.literal(value, sa.String())
    if not column.case_exact:
        attr, needle = sa.func.lower(attr), sa.func.lower(needle)
    if op == "co":
        if value == "":
            return sa.true()
        return sa.func.replace(attr, needle, "") != attr
    if op == "sw":
        return sa.func.substr(attr, 1, sa.func.length(needle)) == needle
    if op == "ew":
        start = sa.func.length(attr) - sa.func.length(needle) + 1
        return sa.and_(sa.func.length(attr) >= sa.func.length(needle), sa.func.substr(attr, start) == needle)
    if op in ORDERING_OPS:
        return _binary_op(_CodePointOrder(attr), op, _CodePointOrder(needle))
    return _binary_op(attr, op, needle)
