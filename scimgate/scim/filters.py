"""The SCIM filter language (RFC 7644 §3.4.2.2) and PATCH path language (RFC 7644 §3.5.2).

Parsing is done by a Lark LALR grammar written from the RFC's ABNF (Figure 1 and the ``PATH``
rule of §3.5.2), so the accepted language can be read in one place instead of being spread over a
hand-written tokenizer.  The result is a small immutable AST that the evaluator
(:mod:`scimgate.scim.filter_eval`) and the SQL translator (:mod:`scimgate.scim.filter_sql`) share.

Decisions where the RFC is loose or silent (each one is covered by tests):

* Operators, ``and``/``or``/``not``, ``pr`` and attribute names are case-insensitive (§3.4.2.2);
  the JSON literals ``true``/``false``/``null`` are accepted in any case too (lenient reading).
* ``not`` must be followed by a parenthesised filter, with or without a space (RFC erratum 7319).
* Whitespace between tokens may be any run of blanks; it is not required next to brackets or
  quotes (``userName eq"x"`` parses).  Keywords must not run into a following name character.
* A schema URN prefix must be a ``urn:`` URI (the only kind SCIM defines, RFC 7643 §8.7); the
  prefix is everything up to the last ``:`` before the attribute name.
* Inside ``[...]`` only plain sub-attribute names are allowed (no URN, no ``a.b``, no nested
  ``[...]``): RFC 7643 §2.4 forbids complex attributes below complex attributes, so nothing deeper
  could ever match.
* Numbers follow JSON (RFC 8259 §6): integers become ``int``, anything with a fraction or an
  exponent ``float``; a non-finite result (``1e999``) is rejected.
* Caps: at most :data:`MAX_FILTER_LENGTH` characters and :data:`MAX_FILTER_DEPTH` levels of
  nesting, where one level is a parenthesised group, a ``not (...)`` or a ``[...]`` value filter.
  Chains of ``and``/``or`` do not nest (they are flattened by every consumer), so a long list of
  alternatives is limited by length only.  The parser itself is iterative (LALR with the
  transformer applied at each reduction), so no input can cause a ``RecursionError``.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from scimgate.scim.errors import InvalidFilter, InvalidPath, ScimError

MAX_FILTER_LENGTH = 4096
MAX_FILTER_DEPTH = 32

COMPARE_OPS = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")

Value: TypeAlias = str | int | float | bool | None


@dataclass(frozen=True)
class AttrPath:
    """``[URI ":"] ATTRNAME *1subAttr`` (RFC 7644 Figure 1), spelled as the client wrote it."""

    schema: str | None
    attr: str
    sub_attr: str | None = None

    @property
    def key(self) -> str:
        """Lower-cased ``attr`` or ``attr.sub``: attribute names are case-insensitive (§3.4.2.2)."""
        if self.sub_attr is None:
            return self.attr.lower()
        return f"{self.attr.lower()}.{self.sub_attr.lower()}"

    def __str__(self) -> str:
        text = self.attr if self.sub_attr is None else f"{self.attr}.{self.sub_attr}"
        return text if self.schema is None else f"{self.schema}:{text}"


@dataclass(frozen=True)
class Compare:
    """``attrPath SP compareOp SP compValue``; ``op`` is always lower-case."""

    path: AttrPath
    op: str
    value: Value


@dataclass(frozen=True)
class Present:
    """``attrPath SP "pr"``: the attribute has a non-empty value (§3.4.2.2, Table 3)."""

    path: AttrPath


@dataclass(frozen=True)
class And:
    """``FILTER SP "and" SP FILTER``; chains parse left-associatively."""

    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or:
    """``FILTER SP "or" SP FILTER``; chains parse left-associatively."""

    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    """``"not" "(" FILTER ")"``."""

    expr: Expr


@dataclass(frozen=True)
class ValuePath:
    """``attrPath "[" valFilter "]"``: some single value of ``path`` satisfies ``filter``.

    The attribute paths inside ``filter`` are relative to one value of the multi-valued
    attribute (``emails[type eq "work"]`` → ``type`` means ``emails.type`` of that value).
    """

    path: AttrPath
    filter: Expr


Expr: TypeAlias = Compare | Present | And | Or | Not | ValuePath


@dataclass(frozen=True)
class PatchPath:
    """RFC 7644 §3.5.2 ``PATH = attrPath / valuePath [subAttr]``.

    ``attr.sub`` without brackets keeps ``sub`` in ``path.sub_attr``; ``sub_attr`` here is only the
    part after a value filter (``emails[type eq "work"].value`` → ``sub_attr == "value"``).  A path
    that is just an extension schema URN (``urn:...:enterprise:2.0:User``) is grammatically an
    attribute path whose last URN segment is the attribute name; the PATCH layer, which knows the
    schemas, tells the two apart.
    """

    path: AttrPath
    value_filter: Expr | None = None
    sub_attr: str | None = None


# --------------------------------------------------------------------------------------------
# Grammar.  Terminals that are keywords carry a negative look-ahead so that ``prx`` or ``andy``
# is never split into a keyword and a name.  The contextual lexer only offers the terminals the
# parser can accept in its current state, so an attribute may be called ``pr`` or ``eq``.
_NAME_END = r"(?![-\w$])"
_GRAMMAR = rf"""
    start_filter: filter
    start_path: attr_path
              | attr_path LSQB filter RSQB [DOT ATTRNAME]   -> value_patch_path

    ?filter: or_expr
    ?or_expr: and_expr
            | or_expr OR and_expr                 -> or_
    ?and_expr: unary
             | and_expr AND unary                 -> and_
    ?unary: NOT filter RPAR                       -> not_
          | LPAR filter RPAR                      -> group
          | attr_path PR                          -> present
          | attr_path COMPARE_OP comp_value       -> compare
          | attr_path LSQB filter RSQB            -> value_path

    attr_path: [URN] ATTRNAME [DOT ATTRNAME]

    comp_value: STRING | NUMBER | TRUE | FALSE | NULL

    URN.3: /urn:[-A-Za-z0-9._~%+!$&'*,;=@:]*:(?=[A-Za-z$])/i
    NOT.3: /not\s*\(/i
    ATTRNAME: /(?:\$ref|[A-Za-z][-_A-Za-z0-9]*){_NAME_END}/i
    COMPARE_OP.2: /(?:eq|ne|co|sw|ew|gt|ge|lt|le){_NAME_END}/i
    PR.2: /pr{_NAME_END}/i
    AND.2: /and{_NAME_END}/i
    OR.2: /or{_NAME_END}/i
    TRUE.2: /true{_NAME_END}/i
    FALSE.2: /false{_NAME_END}/i
    NULL.2: /null{_NAME_END}/i
    NUMBER: /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?(?![-\w$.])/
    STRING: /"(?:[^"\\\x00-\x1f]|\\(?:["\\\/bfnrt]|u[0-9A-Fa-f]{{4}}))*"/
    LPAR: "("
    RPAR: ")"
    LSQB: "["
    RSQB: "]"
    DOT: "."

    %ignore /[ \t\r\n]+/
"""

_TERMINAL_NAMES = {
    "URN": "a schema URN prefix",
    "NOT": "'not ('",
    "ATTRNAME": "an attribute name",
    "COMPARE_OP": "a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le)",
    "PR": "'pr'",
    "AND": "'and'",
    "OR": "'or'",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
    "NUMBER": "a number",
    "STRING": 'a string in double quotes ("...")',
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "DOT": "'.'",
    "$END": "the end of the input",
    "<END-OF-FILE>": "the end of the input",
}


class _Built(NamedTuple):
    """An expression plus its nesting depth, threaded through the reductions."""

    expr: Expr
    depth: int


class _Rejected(Exception):
    """A semantic defect found during a reduction; ``_parse`` re-raises it as the right ScimError."""


class _Builder(Transformer[Token, Any]):
    """Turns reductions into AST nodes as the LALR parser makes them (no tree, no recursion).

    It is stateless, so the one module-level parser can serve concurrent requests.
    """

    def start_filter(self, children: list[Any]) -> tuple[Expr, int]:
        built: _Built = children[0]
        return built.expr, built.depth

    def start_path(self, children: list[Any]) -> tuple[PatchPath, int]:
        return PatchPath(children[0]), 0

    def value_patch_path(self, children: list[Any]) -> tuple[PatchPath, int]:
        path, _, built, _, _, sub = children
        patch = PatchPath(path, _value_filter(path, built.expr), None if sub is None else str(sub))
        return patch, built.depth + 1

    def or_(self, children: list[Any]) -> _Built:
        left, _, right = children
        return _Built(Or(left.expr, right.expr), max(left.depth, right.depth))

    def and_(self, children: list[Any]) -> _Built:
        left, _, right = children
        return _Built(And(left.expr, right.expr), max(left.depth, right.depth))

    def not_(self, children: list[Any]) -> _Built:
        inner = children[1]
        return _Built(Not(inner.expr), inner.depth + 1)

    def group(self, children: list[Any]) -> _Built:
        inner = children[1]
        return _Built(inner.expr, inner.depth + 1)

    def present(self, children: list[Any]) -> _Built:
        return _Built(Present(children[0]), 0)

    def compare(self, children: list[Any]) -> _Built:
        path, op, value = children
        return _Built(Compare(path, str(op).lower(), value), 0)

    def value_path(self, children: list[Any]) -> _Built:
        path, _, inner, _ = children
        return _Built(ValuePath(path, _value_filter(path, inner.expr)), inner.depth + 1)

    def attr_path(self, children: list[Any]) -> AttrPath:
        urn, name, _, sub = children
        schema = None if urn is None else str(urn)[:-1]
        return AttrPath(schema, str(name), None if sub is None else str(sub))

    def comp_value(self, children: list[Any]) -> Value:
        token: Token = children[0]
        if token.type == "STRING":
            text: str = json.loads(token)
            if not _storable(text):  # PostgreSQL refuses NUL in text; no driver encodes a surrogate
                raise _Rejected(
                    f"The string at position {token.start_pos + 1} contains a NUL character or a lone "
                    "UTF-16 surrogate"
                )
            return text
        if token.type == "NUMBER":
            number: int | float = float(token) if any(c in token for c in ".eE") else int(token)
            if not math.isfinite(number):
                raise _Rejected(f"Number {token} at position {token.start_pos + 1} is out of range")
            return number
        return {"TRUE": True, "FALSE": False, "NULL": None}[token.type]


def _storable(text: str) -> bool:
    """False for a string with a NUL character or a lone surrogate (``"\\u0000"``, ``"\\ud800"``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _value_filter(path: AttrPath, inner: Expr) -> Expr:
    """Enforce that a ``[...]`` filter names plain sub-attributes only (RFC 7643 §2.4)."""
    for node in walk(inner):
        if isinstance(node, ValuePath):
            raise _Rejected(f"Value filters cannot be nested: '{node.path}[...]' inside '{path}[...]'")
        if isinstance(node, Compare | Present) and (node.path.schema or node.path.sub_attr):
            raise _Rejected(f"Inside '{path}[...]' name a sub-attribute of '{path}' only, not '{node.path}'")
    return inner


_PARSER = Lark(
    _GRAMMAR, parser="lalr", lexer="contextual", start=["start_filter", "start_path"], transformer=_Builder()
)


def walk(expr: Expr) -> Iterator[Expr]:
    """Yield every node of ``expr`` (pre-order) without recursion."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, And | Or):
            stack.extend((node.right, node.left))
        elif isinstance(node, Not):
            stack.append(node.expr)
        elif isinstance(node, ValuePath):
            stack.append(node.filter)


def operands(expr: Expr) -> list[Expr]:
    """Flatten a chain of the same logical operator (``a and b and c`` → ``[a, b, c]``).

    ``and``/``or`` are associative, so consumers may evaluate chains as lists; doing this without
    recursion keeps a 4096-character ``or`` chain from exhausting the Python stack.
    """
    kind = type(expr)
    if kind not in (And, Or):
        return [expr]
    result: list[Expr] = []
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        if type(node) is kind:
            stack.extend((node.right, node.left))  # type: ignore[union-attr]
        else:
            result.append(node)
    return result


def _describe(expected: set[str] | frozenset[str]) -> str:
    names = sorted({_TERMINAL_NAMES.get(name, name) for name in expected})
    if not names:
        return "nothing more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _explain(text: str, err: UnexpectedInput, what: str) -> str:
    """Say where parsing stopped and what was expected there, in words a client can act on."""
    if isinstance(err, UnexpectedEOF):
        return f"Invalid {what}: it ends too early; expected {_describe(set(err.expected))}"
    if isinstance(err, UnexpectedToken):
        pos = err.token.start_pos if err.token.start_pos is not None else len(text)
        if err.token.type == "$END":
            return f"Invalid {what}: it ends too early; expected {_describe(err.expected)}"
        found = repr(str(err.token))
        expected = err.expected
    elif isinstance(err, UnexpectedCharacters):
        pos = err.pos_in_stream
        found = repr(text[pos : pos + 12])
        expected = err.allowed or set()
    else:  # pragma: no cover - lark has no other UnexpectedInput subclass in use
        return f"Invalid {what}"
    if what == "path" and expected & {"PR", "COMPARE_OP"}:
        # The LALR states after an attribute path are shared with the filter grammar.
        expected = (set(expected) - {"PR", "COMPARE_OP"}) | {"$END"}
    detail = f"Invalid {what}: unexpected {found} at position {pos + 1}; expected {_describe(expected)}"
    before = text[:pos].rstrip().lower()
    if before.endswith("not") and not text[pos:].lstrip().startswith("("):
        detail += " ('not' must be followed by a parenthesised filter: not (...))"
    return detail


def _parse(text: str, start: str, error: type[ScimError], what: str, max_length: int, max_depth: int) -> Any:
    if not isinstance(text, str):
        raise error(f"The {what} must be a string")
    if not text.strip():
        raise error(f"The {what} is empty")
    if len(text) > max_length:
        raise error(f"The {what} is {len(text)} characters long; at most {max_length} are allowed")
    try:
        result, depth = _PARSER.parse(text, start=start)
    except _Rejected as err:
        raise error(f"Invalid {what}: {err}") from None
    except UnexpectedInput as err:
        raise error(_explain(text, err, what)) from None
    except LarkError as err:
        orig = getattr(err, "orig_exc", None)
        raise error(f"Invalid {what}: {orig or err}") from None
    except (RecursionError, ValueError) as err:  # defensive: never leak parser internals
        raise error(f"Invalid {what}: {err.__class__.__name__}") from None
    if depth > max_depth:
        raise error(f"The {what} is nested {depth} levels deep; at most {max_depth} are allowed")
    return result


def parse_filter(
    text: str, *, max_length: int = MAX_FILTER_LENGTH, max_depth: int = MAX_FILTER_DEPTH
) -> Expr:
    """Parse a ``filter`` query parameter (RFC 7644 §3.4.2.2); any defect is ``InvalidFilter``."""
    result: Expr = _parse(text, "start_filter", InvalidFilter, "filter", max_length, max_depth)
    return result


def parse_patch_path(
    text: str, *, max_length: int = MAX_FILTER_LENGTH, max_depth: int = MAX_FILTER_DEPTH
) -> PatchPath:
    """Parse a PATCH operation ``path`` (RFC 7644 §3.5.2); any defect is ``InvalidPath``.

    Paths repeat (``active``, ``members``, an IdP's own attribute names) and parse to immutable
    values, so the most recent short ones are remembered: a parse was 4 % of a user PATCH.
    """
    if not isinstance(text, str):
        raise InvalidPath("The path must be a string")
    if len(text) > _CACHED_PATH_MAX:
        return _parse_patch_path.__wrapped__(text, max_length, max_depth)
    return _parse_patch_path(text, max_length, max_depth)


_CACHED_PATH_MAX = 256  # at most 1024 remembered paths of this length: a few hundred kB at worst


@functools.lru_cache(maxsize=1024)
def _parse_patch_path(text: str, max_length: int, max_depth: int) -> PatchPath:
    result: PatchPath = _parse(text, "start_path", InvalidPath, "path", max_length, max_depth)
    return result


# --------------------------------------------------------------------------------------------
# Printing.


def format_value(value: Value) -> str:
    """A ``compValue`` in JSON syntax (RFC 7644 Figure 1 defers to RFC 7159)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written in a SCIM filter")
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def format_filter(expr: Expr) -> str:
    """Print ``expr`` canonically: lower-case keywords, single spaces, minimal parentheses.

    ``parse_filter(format_filter(e)) == e`` for every AST the parser can produce: because chains
    parse left-associatively, a right operand of the same operator is parenthesised.
    """
    if isinstance(expr, Compare):
        return f"{expr.path} {expr.op} {format_value(expr.value)}"
    if isinstance(expr, Present):
        return f"{expr.path} pr"
    if isinstance(expr, Not):
        return f"not ({format_filter(expr.expr)})"
    if isinstance(expr, ValuePath):
        return f"{expr.path}[{format_filter(expr.filter)}]"
    kind = type(expr)
    spine: list[Expr] = []
    node: Expr = expr
    while type(node) is kind:
        spine.append(node.right)  # type: ignore[union-attr]
        node = node.left  # type: ignore[union-attr]
    parts = [_operand(node, kind, leftmost=True)]
    parts.extend(_operand(right, kind, leftmost=False) for right in reversed(spine))
    return f" {'and' if kind is And else 'or'} ".join(parts)


def _operand(expr: Expr, parent: type, *, leftmost: bool) -> str:
    text = format_filter(expr)
    needs_parens = (parent is And and isinstance(expr, Or)) or (not leftmost and type(expr) is parent)
    return f"({text})" if needs_parens else text


def format_patch_path(path: PatchPath) -> str:
    """Print a PATCH path so that :func:`parse_patch_path` reads back an equal value."""
    if path.value_filter is None:
        return str(path.path)
    text = f"{path.path}[{format_filter(path.value_filter)}]"
    return text if path.sub_attr is None else f"{text}.{path.sub_attr}"
