"""Parsing filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2)."""

from __future__ import annotations

import json

import pytest

from scimgate.scim import urns
from scimgate.scim.errors import InvalidFilter, InvalidPath
from scimgate.scim.filters import (
    MAX_FILTER_DEPTH,
    MAX_FILTER_LENGTH,
    And,
    AttrPath,
    Compare,
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


def a(name: str, schema: str | None = None) -> AttrPath:
    """``AttrPath`` from ``"attr"`` or ``"attr.sub"``."""
    attr, _, sub = name.partition(".")
    return AttrPath(schema, attr, sub or None)


# Every example filter of RFC 7644 §3.4.2.2, verbatim, with the AST it must produce.
RFC_EXAMPLES = [
    ('userName Eq "john"', Compare(a("userName"), "eq", "john")),
    ('Username eq "john"', Compare(a("Username"), "eq", "john")),
    ('userName eq "bjensen"', Compare(a("userName"), "eq", "bjensen")),
    ('name.familyName co "O\'Malley"', Compare(a("name.familyName"), "co", "O'Malley")),
    ('userName sw "J"', Compare(a("userName"), "sw", "J")),
    (
        'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"',
        Compare(a("userName", urns.USER), "sw", "J"),
    ),
    ("title pr", Present(a("title"))),
    (
        'meta.lastModified gt "2011-05-13T04:42:34Z"',
        Compare(a("meta.lastModified"), "gt", "2011-05-13T04:42:34Z"),
    ),
    (
        'meta.lastModified ge "2011-05-13T04:42:34Z"',
        Compare(a("meta.lastModified"), "ge", "2011-05-13T04:42:34Z"),
    ),
    (
        'meta.lastModified lt "2011-05-13T04:42:34Z"',
        Compare(a("meta.lastModified"), "lt", "2011-05-13T04:42:34Z"),
    ),
    (
        'meta.lastModified le "2011-05-13T04:42:34Z"',
        Compare(a("meta.lastModified"), "le", "2011-05-13T04:42:34Z"),
    ),
    (
        'title pr and userType eq "Employee"',
        And(Present(a("title")), Compare(a("userType"), "eq", "Employee")),
    ),
    ('title pr or userType eq "Intern"', Or(Present(a("title")), Compare(a("userType"), "eq", "Intern"))),
    (
        'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"',
        Compare(a("schemas"), "eq", urns.ENTERPRISE_USER),
    ),
    (
        'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
        And(
            Compare(a("userType"), "eq", "Employee"),
            Or(Compare(a("emails"), "co", "example.com"), Compare(a("emails.value"), "co", "example.org")),
        ),
    ),
    (
        'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
        And(
            Compare(a("userType"), "ne", "Employee"),
            Not(
                Or(Compare(a("emails"), "co", "example.com"), Compare(a("emails.value"), "co", "example.org"))
            ),
        ),
    ),
    (
        'userType eq "Employee" and (emails.type eq "work")',
        And(Compare(a("userType"), "eq", "Employee"), Compare(a("emails.type"), "eq", "work")),
    ),
    (
        'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
        And(
            Compare(a("userType"), "eq", "Employee"),
            ValuePath(
                a("emails"), And(Compare(a("type"), "eq", "work"), Compare(a("value"), "co", "@example.com"))
            ),
        ),
    ),
    (
        'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
        Or(
            ValuePath(
                a("emails"), And(Compare(a("type"), "eq", "work"), Compare(a("value"), "co", "@example.com"))
            ),
            ValuePath(a("ims"), And(Compare(a("type"), "eq", "xmpp"), Compare(a("value"), "co", "@foo.com"))),
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), RFC_EXAMPLES, ids=[e[0] for e in RFC_EXAMPLES])
def test_rfc_examples(text: str, expected: object) -> None:
    parsed = parse_filter(text)
    assert parsed == expected
    assert parse_filter(format_filter(parsed)) == parsed


def test_attribute_names_and_operators_are_case_insensitive() -> None:
    """§3.4.2.2: ``userName Eq "john"`` and ``Username eq "john"`` evaluate alike."""
    first, second = parse_filter('userName Eq "john"'), parse_filter('Username eq "john"')
    assert isinstance(first, Compare) and isinstance(second, Compare)
    assert first.path.key == second.path.key == "username"
    assert first.op == second.op == "eq"
    assert parse_filter("A PR AND NOT (B PR) OR C PR") == Or(
        And(Present(a("A")), Not(Present(a("B")))), Present(a("C"))
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # not > and > or
        ("a pr or b pr and c pr", Or(Present(a("a")), And(Present(a("b")), Present(a("c"))))),
        ("a pr and b pr or c pr", Or(And(Present(a("a")), Present(a("b"))), Present(a("c")))),
        ("not (a pr) and b pr", And(Not(Present(a("a"))), Present(a("b")))),
        ("(a pr or b pr) and c pr", And(Or(Present(a("a")), Present(a("b"))), Present(a("c")))),
        ("a pr and b pr and c pr", And(And(Present(a("a")), Present(a("b"))), Present(a("c")))),
        ("a pr or (b pr or c pr)", Or(Present(a("a")), Or(Present(a("b")), Present(a("c"))))),
        # `not` with or without a space before the parenthesis (RFC erratum 7319)
        ("not(a pr)", Not(Present(a("a")))),
        ("NOT  (a pr)", Not(Present(a("a")))),
    ],
)
def test_precedence(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('x eq "plain"', "plain"),
        (r'x eq "q\"uote"', 'q"uote'),
        (r'x eq "back\\slash"', "back\\slash"),
        (r'x eq "\/\b\f\n\r\t"', "/\b\f\n\r\t"),
        (r'x eq "\u00e9\uD83D\uDE00"', "é😀"),
        ('x eq "Ünïcødé"', "Ünïcødé"),
        ('x eq ""', ""),
        ("x eq true", True),
        ("x eq false", False),
        ("x eq null", None),
        ("x eq TRUE", True),
        ("x eq 0", 0),
        ("x eq -17", -17),
        ("x eq 3.25", 3.25),
        ("x eq 1e3", 1000.0),
        ("x eq -2.5E-2", -0.025),
        ("x eq 123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_values(text: str, value: object) -> None:
    parsed = parse_filter(text)
    assert isinstance(parsed, Compare)
    assert parsed.value == value and type(parsed.value) is type(value)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('$ref eq "x"', AttrPath(None, "$ref", None)),
        ("members.$ref pr", AttrPath(None, "members", "$ref")),
        ("first-name_2 pr", AttrPath(None, "first-name_2", None)),
        ("pr pr", AttrPath(None, "pr", None)),
        ("eq eq 1", AttrPath(None, "eq", None)),
        ("not eq 1", AttrPath(None, "not", None)),
        ("urn pr", AttrPath(None, "urn", None)),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr",
            AttrPath(urns.ENTERPRISE_USER, "employeeNumber", None),
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr",
            AttrPath(urns.ENTERPRISE_USER, "manager", "value"),
        ),
        ("urn:example:x-y_1.2:a pr", AttrPath("urn:example:x-y_1.2", "a", None)),
    ],
)
def test_attribute_paths(text: str, path: AttrPath) -> None:
    parsed = parse_filter(text)
    assert isinstance(parsed, Compare | Present)
    assert parsed.path == path


def test_key_is_lower_cased_without_schema() -> None:
    assert AttrPath(urns.USER, "Name", "familyName").key == "name.familyname"
    assert AttrPath(None, "userName", None).key == "username"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("userName", "ends too early"),
        ("userName eq", "ends too early"),
        ('userName eq "bjensen" and', "ends too early"),
        ('userName "bjensen"', "comparison operator"),
        ('userName xx "bjensen"', "comparison operator"),
        ("userName eq bjensen", "string in double quotes"),
        ("userName eq 'bjensen'", "string in double quotes"),
        ('userName eq "unterminated', "position 13"),
        ('userName eq "bad \\x escape"', "position 13"),
        ('userName eq "raw\ttab"', "position 13"),
        ("not a pr", "parenthesised"),
        ("(a pr", "')'"),
        ("a pr)", "unexpected ')'"),
        ("a pr b pr", "unexpected 'b'"),
        ("a pr and or b pr", "unexpected 'b'"),  # `or` is read as an attribute name there
        ("title prand x pr", "position 7"),
        ("x eq 01", "unexpected"),
        ("x eq 1.", "unexpected"),
        ("x eq 1e999", "out of range"),
        ("x eq 1and y pr", "unexpected"),
        ('emails[type eq "work"', "ends too early"),
        ("emails[]", "unexpected ']'"),
        ('emails[type[value eq "x"]]', "cannot be nested"),
        ('emails[urn:ietf:params:scim:schemas:core:2.0:User:type eq "x"]', "sub-attribute"),
        ('emails[type.x eq "x"]', "sub-attribute"),
        ('emails[type eq "work"].value eq "x"', "unexpected '.'"),
        ("name.familyName.x pr", "unexpected '.'"),
        ("1abc pr", "attribute name"),
        ("http://example.com:userName pr", "unexpected"),
        ('userName eq "x" \x00', "unexpected"),
    ],
)
def test_invalid_filters(text: str, fragment: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    error = caught.value
    assert fragment in error.detail
    assert error.status == 400
    assert error.scim_type == "invalidFilter"
    assert error.to_body()["scimType"] == "invalidFilter"


def test_error_says_where_and_what() -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter('userName eq "x" and emails co')
    assert caught.value.detail == (
        "Invalid filter: it ends too early; expected a number, "
        'a string in double quotes ("..."), false, null or true'
    )
    with pytest.raises(InvalidFilter) as caught:
        parse_filter('userName zz "x"')
    assert caught.value.detail.startswith("Invalid filter: unexpected 'zz' at position 10; expected ")


def test_length_cap() -> None:
    filter_text = 'userName eq "' + "x" * (MAX_FILTER_LENGTH - 14) + '"'
    assert len(filter_text) == MAX_FILTER_LENGTH
    parse_filter(filter_text)
    with pytest.raises(InvalidFilter, match="at most 4096"):
        parse_filter(filter_text + " ")
    with pytest.raises(InvalidFilter, match="at most 10"):
        parse_filter("title pr and title pr", max_length=10)


@pytest.mark.parametrize("template", ["({})", "not ({})", "not({})"])
def test_depth_cap(template: str) -> None:
    def nest(levels: int) -> str:
        text = "b pr"
        for _ in range(levels):
            text = template.format(text)
        return text

    parse_filter(nest(MAX_FILTER_DEPTH))
    with pytest.raises(InvalidFilter, match="nested 33 levels deep; at most 32"):
        parse_filter(nest(MAX_FILTER_DEPTH + 1))
    with pytest.raises(InvalidFilter, match="at most 2"):
        parse_filter(nest(3), max_depth=2)


def test_value_filter_counts_as_a_level() -> None:
    inner = "(" * (MAX_FILTER_DEPTH - 1) + "type pr" + ")" * (MAX_FILTER_DEPTH - 1)
    parse_filter(f"emails[{inner}]")
    with pytest.raises(InvalidFilter, match="nested"):
        parse_filter(f"emails[({inner})]")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 3000 + "a pr" + ")" * 3000,
        "(" * 4000,
        "not (" * 800 + "a pr" + ")" * 800,
        "a[" * 2000,
        " or ".join(["a pr"] * 800),
    ],
    ids=["deep-parens", "open-parens", "deep-not", "open-brackets", "long-chain"],
)
def test_hostile_input_raises_only_invalid_filter(text: str) -> None:
    """Large or deep input is refused cleanly: no RecursionError, no parser exception."""
    try:
        parse_filter(text, max_length=100_000)
    except InvalidFilter:
        return
    assert text.startswith("a pr or")  # the long chain is legal: chains do not nest


def test_long_chain_round_trips() -> None:
    text = " or ".join(f'userName eq "u{i}"' for i in range(180))
    assert len(text) <= MAX_FILTER_LENGTH
    parsed = parse_filter(text)
    assert format_filter(parsed) == text


@pytest.mark.parametrize("bad", [None, 42, b"title pr"])
def test_non_string_input(bad: object) -> None:
    with pytest.raises(InvalidFilter):
        parse_filter(bad)  # type: ignore[arg-type]


def test_format_is_canonical() -> None:
    parsed = parse_filter('NOT(A Pr)  AND  (b.C EQ "x" or d[e ne 1.5e0])   or urn:x:y:z lt -3')
    assert format_filter(parsed) == 'not (A pr) and (b.C eq "x" or d[e ne 1.5]) or urn:x:y:z lt -3'
    assert (
        format_filter(And(Present(a("a")), And(Present(a("b")), Present(a("c")))))
        == "a pr and (b pr and c pr)"
    )
    assert format_filter(Compare(a("x"), "eq", 'tab\tquote"')) == 'x eq "tab\\tquote\\""'


# ------------------------------------------------------------------------------------------
# PATCH paths, RFC 7644 §3.5.2 and the examples of §3.5.2.1 to §3.5.2.3.


PATH_EXAMPLES = [
    ("members", PatchPath(a("members"))),
    ("name.familyName", PatchPath(a("name.familyName"))),
    ('addresses[type eq "work"]', PatchPath(a("addresses"), Compare(a("type"), "eq", "work"))),
    (
        'members[value eq "2819c223-7f76-453a-919d-413861904646"]',
        PatchPath(a("members"), Compare(a("value"), "eq", "2819c223-7f76-453a-919d-413861904646")),
    ),
    (
        'members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName',
        PatchPath(
            a("members"), Compare(a("value"), "eq", "2819c223-7f76-453a-919d-413861904646"), "displayName"
        ),
    ),
    ('emails[type eq "work"].value', PatchPath(a("emails"), Compare(a("type"), "eq", "work"), "value")),
    (
        'emails[type eq "work" and value ew "example.com"]',
        PatchPath(
            a("emails"), And(Compare(a("type"), "eq", "work"), Compare(a("value"), "ew", "example.com"))
        ),
    ),
    (
        'addresses[type eq "work"].streetAddress',
        PatchPath(a("addresses"), Compare(a("type"), "eq", "work"), "streetAddress"),
    ),
    ("urn:ietf:params:scim:schemas:core:2.0:User:userName", PatchPath(a("userName", urns.USER))),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        PatchPath(a("employeeNumber", urns.ENTERPRISE_USER)),
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        PatchPath(a("manager.value", urns.ENTERPRISE_USER)),
    ),
    (
        'urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value',
        PatchPath(a("emails", urns.USER), Compare(a("type"), "eq", "work"), "value"),
    ),
    ("x509Certificates[value pr]", PatchPath(a("x509Certificates"), Present(a("value")))),
]


@pytest.mark.parametrize(("text", "expected"), PATH_EXAMPLES, ids=[e[0] for e in PATH_EXAMPLES])
def test_patch_paths(text: str, expected: PatchPath) -> None:
    parsed = parse_patch_path(text)
    assert parsed == expected
    assert parse_patch_path(format_patch_path(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("emails[", "ends too early"),
        ('emails[type eq "work"]value', "unexpected 'value'"),
        ('emails[type eq "work"].value.x', "unexpected '.'"),
        ("name.familyName.x", "unexpected '.'"),
        ('userName eq "x"', "unexpected 'eq'"),
        ("members pr", "unexpected 'pr'"),
        ("emails[type]", "unexpected ']'"),
        ('emails[type[value eq "x"]]', "cannot be nested"),
        ("(members)", "unexpected '('"),
        ("members[" + "(" * 40 + "value pr" + ")" * 40 + "]", "nested"),
    ],
)
def test_invalid_patch_paths(text: str, fragment: str) -> None:
    with pytest.raises(InvalidPath) as caught:
        parse_patch_path(text)
    assert fragment in caught.value.detail
    assert caught.value.status == 400
    assert caught.value.scim_type == "invalidPath"


def test_patch_path_error_does_not_mention_filter_operators() -> None:
    with pytest.raises(InvalidPath) as caught:
        parse_patch_path("members value")
    detail = caught.value.detail
    assert "comparison operator" not in detail and "end of the input" in detail


def test_patch_paths_are_remembered_only_as_what_they_parse_to() -> None:
    """Repeated paths come from memory; refusals are never remembered as successes."""
    assert parse_patch_path("active") == parse_patch_path("active") == PatchPath(a("active"))
    long_path = "members[value eq " + json.dumps("x" * 300) + "]"
    assert parse_patch_path(long_path) == PatchPath(a("members"), Compare(a("value"), "eq", "x" * 300))
    for _ in range(2):
        with pytest.raises(InvalidPath):
            parse_patch_path("members[")
    for not_text in (["members"], {"a": 1}, 7, None):
        with pytest.raises(InvalidPath, match="must be a string"):
            parse_patch_path(not_text)  # type: ignore[arg-type]
    with pytest.raises(InvalidPath, match="at most 4"):
        parse_patch_path("active", max_length=4)  # the limits are part of what is remembered
