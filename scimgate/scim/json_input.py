"""Strict JSON input: what ``json.loads`` accepts but no database can store is refused up front.

Python's JSON parser accepts lone UTF-16 surrogates (``"\\ud800"``), NUL characters, ``NaN`` and
``Infinity``, and any nesting depth up to the interpreter's recursion limit. Each would otherwise
fail later, deep in a driver (PostgreSQL refuses NUL in text; UTF-8 encoding fails on a lone
surrogate), so they are refused here as 400 ``invalidSyntax`` naming where they occurred.

Numbers are valid JSON whatever their size (RFC 8259 §6 leaves the range to implementations), so
those Python cannot hold are 400 ``invalidValue``: an integer longer than Python converts
(``sys.get_int_max_str_digits()``, 4300 digits; a ``ValueError`` out of the parser before) and a
number beyond the double range (``1e999999``), which would read as infinity.

Every JSON body the application reads goes through ``loads``: SCIM bodies and the /api/v1 API.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from scimgate.scim.errors import InvalidSyntax, InvalidValue

MAX_DEPTH = 64


def _reject_constant(name: str) -> Any:
    raise InvalidSyntax(f"The body is not valid JSON: '{name}' is not a JSON number.")


class _OutOfRange:
    """Stands in the parsed document for a number Python cannot hold, so the refusal can say
    where it is (the walk finds it; parsing itself only knows the number's text)."""

    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _shown(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}...{text[-10:]}"


def _number_readers() -> tuple[Any, Any, list[_OutOfRange]]:
    """``parse_int`` and ``parse_float`` for one document, and the list of numbers they refused."""
    refused: list[_OutOfRange] = []
    limit = sys.get_int_max_str_digits()

    def read_int(text: str) -> int | _OutOfRange:
        digits = len(text) - text.startswith("-")
        if limit and digits > limit:
            refused.append(_OutOfRange(f"is a number with {digits} digits; at most {limit} are accepted."))
            return refused[-1]
        return int(text)

    def read_float(text: str) -> float | _OutOfRange:
        number = float(text)
        if not math.isfinite(number):
            refused.append(
                _OutOfRange(f"is the number {_shown(text)}, out of range (beyond about ±1.8e308).")
            )
            return refused[-1]
        return number

    return read_int, read_float, refused


def check_text(value: str, where: str) -> None:
    """Refuse NUL characters and lone surrogates in a string."""
    if "\x00" in value:
        raise InvalidSyntax(f"{where} contains a NUL character, which is not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidSyntax(
            f"{where} contains a lone UTF-16 surrogate, which is not valid Unicode."
        ) from None


def _check_tree(document: Any, max_depth: int) -> None:
    """Walk the parsed document iteratively (no recursion) checking depth, strings and numbers."""
    pending: list[tuple[Any, str, int]] = [(document, "$", 1)]
    while pending:
        node, where, depth = pending.pop()
        if depth > max_depth:
            raise InvalidSyntax(f"The body's JSON is nested deeper than {max_depth} levels (at {where}).")
        if isinstance(node, str):
            check_text(node, f"The value at {where}")
        elif isinstance(node, _OutOfRange):
            raise InvalidValue(f"The value at {where} {node.problem}")
        elif isinstance(node, dict):
            for key, value in node.items():
                check_text(key, f"The key {where}.{key[:40]!r}")
                pending.append((value, f"{where}.{key[:40]}", depth + 1))
        elif isinstance(node, list):
            pending.extend((value, f"{where}[{i}]", depth + 1) for i, value in enumerate(node))


def loads(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text`` as strict JSON (RFC 8259) or raise ``InvalidSyntax`` saying where it fails."""
    read_int, read_float, refused = _number_readers()
    try:
        document = json.loads(
            text, parse_constant=_reject_constant, parse_int=read_int, parse_float=read_float
        )
    except json.JSONDecodeError as err:
        raise InvalidSyntax(
            f"The body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}."
        ) from None
    except RecursionError:
        raise InvalidSyntax(f"The body's JSON is nested deeper than {max_depth} levels.") from None
    if refused or _may_break_rules(text, max_depth):
        _check_tree(document, max_depth)
    return document


def _may_break_rules(text: str, max_depth: int) -> bool:
    """False when the parsed ``text`` cannot hold a NUL, a lone surrogate or deep nesting, so the
    walk over every value (most of the cost of reading a body) can be skipped.

    Strict JSON has no raw control characters in strings, so a NUL or a surrogate can only come
    from a ``\\u`` escape or, for a surrogate, from ``text`` itself (which ``encode`` finds); and a
    document cannot nest deeper than it has brackets.
    """
    if "\\u" in text or text.count("{") + text.count("[") > max_depth:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
