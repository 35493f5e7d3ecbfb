"""Property tests: printing round-trips, and SQL agrees with the reference evaluator.

1. Any AST the parser can produce prints (``format_filter``) to text that parses back to it.
2. For random small tables and random well-typed filters, the rows that ``to_sql`` selects from a
   real SQLite database are exactly those whose JSON form ``filter_eval.matches``.  Strings come
   from a small ASCII alphabet that includes LIKE's ``%``/``_``/``\\`` and both letter cases, so
   case folding, escaping, NULLs and the multi-valued "any value" rule are all exercised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimgate.scim import urns
from scimgate.scim.filter_eval import matches
from scimgate.scim.filter_sql import to_sql
from scimgate.scim.filters import (
    COMPARE_OPS,
    And,
    AttrPath,
    Compare,
    Expr,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    format_filter,
    format_patch_path,
    parse_filter,
    parse_patch_path,
)
from tests.support.filter_tables import (
    ATTRIBUTES,
    METADATA,
    SCHEMAS,
    USERS,
    as_resource,
    case_exact,
    load,
    user_row,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------------------------
# 1. format_filter / parse_filter round trip over arbitrary ASTs.

names = st.one_of(st.from_regex(r"[A-Za-z][-_A-Za-z0-9]{0,7}", fullmatch=True), st.just("$ref"))
schemas = st.one_of(
    st.none(),
    st.sampled_from([urns.USER, urns.ENTERPRISE_USER, urns.GROUP]),
    st.from_regex(r"urn:[a-z][-a-z0-9.]{0,5}(:[-A-Za-z0-9._]{1,5}){0,3}", fullmatch=True),
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    # NUL and lone surrogates no database can store: refused on purpose (see the test below).
    st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12),
)
paths = st.builds(AttrPath, schemas, names, st.none() | names)
plain_paths = st.builds(AttrPath, st.none(), names, st.none())


def _logic(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(And, children, children),
        st.builds(Or, children, children),
        st.builds(Not, children),
    )


def _leaves(path_strategy: st.SearchStrategy[AttrPath]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(Compare, path_strategy, st.sampled_from(COMPARE_OPS), values),
        st.builds(Present, path_strategy),
    )


inner_filters = st.recursive(_leaves(plain_paths), _logic, max_leaves=5)
filters = st.recursive(
    st.one_of(_leaves(paths), st.builds(ValuePath, paths, inner_filters)),
    _logic,
    max_leaves=12,
)


@SETTINGS
@given(filters)
def test_format_then_parse_gives_the_same_ast(expr: Expr) -> None:
    text = format_filter(expr)
    parsed = parse_filter(text, max_length=100_000)
    assert parsed == expr
    assert format_filter(parsed) == text  # also tells 1 from true and 1 from 1.0


@SETTINGS
@given(
    st.one_of(
        st.builds(PatchPath, paths),
        st.builds(PatchPath, paths, inner_filters, st.none() | names),
    )
)
def test_patch_paths_round_trip(path: PatchPath) -> None:
    assert parse_patch_path(format_patch_path(path), max_length=100_000) == path


@SETTINGS
@given(st.text(max_size=60))
def test_arbitrary_text_parses_or_raises_invalid_filter(text: str) -> None:
    """Whatever the input, the only failure is InvalidFilter (never a lark or Python error)."""
    from scimgate.scim.errors import InvalidFilter

    try:
        parse_filter(text)
    except InvalidFilter as err:
        assert err.detail


@SETTINGS
@given(
    st.text(max_size=5),
    st.sampled_from(["\x00", "\\u0000", "\\ud800", "\\udfff"]),
    st.text(max_size=5),
)
def test_strings_no_database_can_store_are_invalid_filters(before: str, bad: str, after: str) -> None:
    """A NUL or a lone surrogate, raw or escaped, is 400 invalidFilter, never a driver error."""
    from scimgate.scim.errors import InvalidFilter

    literal = json.dumps(before)[:-1] + bad + json.dumps(after)[1:]
    with pytest.raises(InvalidFilter):
        parse_filter(f"userName eq {literal}")


# ------------------------------------------------------------------------------------------
# 2. SQL (SQLite) agrees with filter_eval.matches.

ALPHABET = "aAbB%_\\'"
short_text = st.text(alphabet=ALPHABET, max_size=3)
MOMENTS = [datetime(2011, 5, 13, 4, 42, 34), datetime(2011, 5, 13, 4, 42, 35), datetime(2020, 1, 1)]


@st.composite
def moment_literals(draw: st.DrawFn) -> str:
    """One of ``MOMENTS`` (or a second either side), written in UTC or another offset."""
    moment = draw(st.sampled_from(MOMENTS)) + timedelta(seconds=draw(st.sampled_from([-1, 0, 1])))
    hours = draw(st.sampled_from([0, 2, -5]))
    if hours == 0:
        return moment.isoformat() + draw(st.sampled_from(["Z", "+00:00", "z"]))
    local = moment + timedelta(hours=hours)
    return f"{local.isoformat()}{'+' if hours > 0 else '-'}{abs(hours):02d}:00"


def _compare(name: str, ops: list[str], value: st.SearchStrategy[Any]) -> st.SearchStrategy[Expr]:
    path = AttrPath(None, name.split(".")[0], name.split(".")[1] if "." in name else None)
    return st.one_of(
        st.builds(Compare, st.just(path), st.sampled_from(ops), value),
        st.builds(Compare, st.just(path), st.sampled_from(["eq", "ne"]), st.none()),
        st.just(Present(path)),
    )


ALL_OPS = list(COMPARE_OPS)
ORDER_OPS = ["eq", "ne", "gt", "ge", "lt", "le"]
string_leaves = st.one_of(
    *(
        _compare(name, ALL_OPS, short_text)
        for name in ("userName", "email", "displayName", "tags", "tags.value")
    )
)
typed_leaves = st.one_of(
    string_leaves,
    _compare("tags.type", ALL_OPS, short_text),
    _compare("active", ["eq", "ne"], st.booleans()),
    _compare("meta.lastModified", ORDER_OPS, moment_literals()),
    _compare("loginCount", ORDER_OPS, st.integers(-4, 4) | st.sampled_from([-0.5, 0.5, 2.0])),
)
tag_inner = st.recursive(
    st.one_of(_compare("value", ALL_OPS, short_text), _compare("type", ALL_OPS, short_text)),
    _logic,
    max_leaves=4,
)
sql_filters = st.recursive(
    st.one_of(typed_leaves, st.builds(ValuePath, st.just(AttrPath(None, "tags", None)), tag_inner)),
    _logic,
    max_leaves=8,
)

maybe_text = st.none() | short_text
users_rows = st.lists(
    st.tuples(
        maybe_text,
        maybe_text,
        maybe_text,
        st.none() | st.booleans(),
        st.none() | st.sampled_from(MOMENTS),
        st.none() | st.integers(-3, 3),
        st.lists(st.tuples(st.text(alphabet=ALPHABET, min_size=1, max_size=3), maybe_text), max_size=3),
    ),
    max_size=6,
)


@pytest.fixture(scope="module")
def sqlite_conn() -> Iterator[sa.Connection]:
    """One in-memory SQLite connection with the test tables, shared by all examples."""
    engine = sa.create_engine("sqlite://")
    METADATA.create_all(engine)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def _drop_nulls(value: Any) -> Any:
    """The same resource with null members left out, as a client may send it."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


@SETTINGS
@given(rows=users_rows, expr=sql_filters, omit_nulls=st.booleans())
def test_sql_agrees_with_reference_evaluator(
    sqlite_conn: sa.Connection, rows: list[tuple[Any, ...]], expr: Expr, omit_nulls: bool
) -> None:
    users = [user_row(i, *row[:6]) for i, row in enumerate(rows, start=1)]
    tags = {i: row[6] for i, row in enumerate(rows, start=1)}
    with sqlite_conn.begin() as transaction:
        load(sqlite_conn, users, tags)
        selected = set(
            sqlite_conn.execute(sa.select(USERS.c.id).where(to_sql(expr, ATTRIBUTES, SCHEMAS))).scalars()
        )
        transaction.rollback()
    expected = set()
    for user in users:
        resource = as_resource(user, tags[user["id"]])
        if omit_nulls:
            resource = _drop_nulls(resource)
        if matches(expr, resource, case_exact):
            expected.add(user["id"])
    assert selected == expected, format_filter(expr)
