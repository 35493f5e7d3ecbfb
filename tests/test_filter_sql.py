"""``filter_sql.to_sql`` on a real database: every operator by caseExact, NULLs, multi-valued.

Runs on an in-memory SQLite database, and also on PostgreSQL when
``SCIMGATE_TEST_DATABASE_URL`` names one (in a throwaway schema that is dropped afterwards).  The
tables are this module's own SQLAlchemy Core tables, not the app's, so the translator is tested
alone.  Every case is also checked against ``filter_eval.matches`` on the same data as dicts.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from scimgate.scim import urns
from scimgate.scim.errors import InvalidFilter
from scimgate.scim.filter_eval import matches
from scimgate.scim.filter_sql import Column, to_sql
from scimgate.scim.filters import ValuePath, parse_filter
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


def selected_ids(conn: sa.Connection, filter_text: str) -> set[int]:
    """Ids of the users the translated filter selects."""
    condition = to_sql(parse_filter(filter_text), ATTRIBUTES, SCHEMAS)
    return set(conn.execute(sa.select(USERS.c.id).where(condition)).scalars())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """An engine with both tables created; PostgreSQL only when configured."""
    if request.param == "sqlite":
        eng = sa.create_engine("sqlite://")
        METADATA.create_all(eng)
        yield eng
        eng.dispose()
        return
    url = os.environ.get("SCIMGATE_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("SCIMGATE_TEST_DATABASE_URL does not name a PostgreSQL database")
    schema = f"filters_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    eng = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        METADATA.create_all(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


USERS_DATA = [
    user_row(
        1,
        "bjensen",
        "Babs@Example.com",
        "Babs Jensen",
        True,
        datetime(2011, 5, 13, 4, 42, 34),
        5,
        b"\x01\x02",
    ),
    user_row(2, "BJensen", "bjensen@example.org", "B_J%ensen", False, datetime(2011, 5, 13, 4, 42, 35), 10),
    user_row(3, "jsmith", None, "", None, None, None),
    user_row(4, "O'Malley", "o\\malley@EXAMPLE.com", "Zed", True, datetime(2020, 1, 1), -1),
]
TAGS_DATA: dict[int, list[tuple[Any, Any]]] = {
    1: [("Admin", "role"), ("ops", "Team")],
    2: [("admin", "role")],
    4: [("x", None)],
}
RESOURCES = {row["id"]: as_resource(row, TAGS_DATA.get(row["id"], [])) for row in USERS_DATA}


@pytest.fixture(scope="module")
def conn(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection to the seeded tables; rolled back at the end of the module."""
    with engine.connect() as connection:
        transaction = connection.begin()
        load(connection, USERS_DATA, TAGS_DATA)
        yield connection
        transaction.rollback()


CASES: list[tuple[str, set[int]]] = [
    # eq / ne, caseExact and not
    ('userName eq "bjensen"', {1}),
    ('USERNAME EQ "BJensen"', {2}),
    ('userName eq "BJENSEN"', set()),
    ('email eq "babs@example.com"', {1}),
    ('email eq "BABS@EXAMPLE.COM"', {1}),
    ('userName ne "bjensen"', {2, 3, 4}),
    ('email ne "babs@example.com"', {2, 3, 4}),
    # co / sw / ew
    ('userName co "jen"', {1}),
    ('userName co "Jen"', {2}),
    ('email co "EXAMPLE"', {1, 2, 4}),
    ('userName sw "b"', {1}),
    ('userName sw "B"', {2}),
    ('email sw "BABS"', {1}),
    ('userName ew "sen"', {1, 2}),
    ('userName ew "SEN"', set()),
    ('email ew ".COM"', {1, 4}),
    ('userName ew "bjensen"', {1}),
    ('userName sw "bjensenx"', set()),
    ('userName ew "xbjensen"', set()),
    # characters that are wildcards or escapes in LIKE are plain text here
    ('displayName co "%"', {2}),
    ('displayName co "_"', {2}),
    ('displayName sw "B_"', {2}),
    ('displayName sw "B%"', set()),
    ('email co "\\\\"', {4}),
    ('email co "o\\\\m"', {4}),
    ('userName co "\'"', {4}),
    ('displayName co ""', {1, 2, 3, 4}),
    ('displayName sw ""', {1, 2, 3, 4}),
    ('displayName ew ""', {1, 2, 3, 4}),
    # ordering on strings: code point order, folded unless caseExact
    ('userName gt "a"', {1, 3}),
    ('userName le "BJensen"', {2}),
    ('userName lt "b"', {2, 4}),
    ('email gt "B"', {1, 2, 4}),
    ('email ge "BJENSEN@EXAMPLE.ORG"', {2, 4}),
    ('displayName lt "b"', {3}),
    # booleans
    ("active eq true", {1, 4}),
    ("active eq false", {2}),
    ("active ne true", {2, 3}),
    ("active pr", {1, 2, 4}),
    # dateTime: chronological, offsets honoured
    ('meta.lastModified gt "2011-05-13T04:42:34Z"', {2, 4}),
    ('meta.lastModified ge "2011-05-13T04:42:34Z"', {1, 2, 4}),
    ('meta.lastModified eq "2011-05-13T06:42:34+02:00"', {1}),
    ('meta.lastModified lt "2011-05-13T04:42:35Z"', {1}),
    ('meta.lastModified le "2011-05-13T04:42:35.000Z"', {1, 2}),
    ('meta.lastModified ne "2011-05-13T04:42:34Z"', {2, 3, 4}),
    ("meta.lastModified pr", {1, 2, 4}),
    # integers, with int and float values
    ("loginCount gt 5", {2}),
    ("loginCount ge 5", {1, 2}),
    ("loginCount lt 0", {4}),
    ("loginCount eq 5.0", {1}),
    ("loginCount le 5.5", {1, 4}),
    ("loginCount gt 9.5", {2}),
    ("loginCount ne 5", {2, 3, 4}),
    # binary: base64 compared with the stored bytes
    ('certificate eq "AQI="', {1}),
    ('certificate ne "AQI="', {2, 3, 4}),
    # pr and null
    ("displayName pr", {1, 2, 4}),
    ("email pr", {1, 2, 4}),
    ("email eq null", {3}),
    ("email ne null", {1, 2, 4}),
    ("displayName eq null", {3}),
    # multi-valued: ANY value; [..] means one value satisfies the whole inner filter
    ('tags eq "admin"', {1, 2}),
    ('tags.value eq "ADMIN"', {1, 2}),
    ('tags.type eq "role"', {1, 2}),
    ('tags.type eq "ROLE"', set()),
    ('tags[type eq "role" and value eq "Admin"]', {1, 2}),
    ('tags[value eq "ops" and type eq "role"]', set()),
    ('tags.value eq "ops" and tags.type eq "role"', {1}),
    ('tags[type eq "Team" or value sw "X"]', {1, 4}),
    ("tags[not (type pr)]", {4}),
    ('tags[type ne "role"]', {1, 4}),
    ("tags pr", {1, 2, 4}),
    ("tags eq null", {3}),
    ("tags ne null", {1, 2, 4}),
    ("tags.type pr", {1, 2}),
    ("tags.type eq null", {3, 4}),
    ('tags ne "admin"', {1, 3, 4}),
    ('tags.type ne "role"', {1, 3, 4}),
    ('tags co "d"', {1, 2}),
    ('tags gt "b"', {1, 4}),
    # logic
    ('not (userName eq "bjensen")', {2, 3, 4}),
    ('not (email co "example")', {3}),
    ('not (not (email co "example"))', {1, 2, 4}),
    ('userName eq "bjensen" or active eq false', {1, 2}),
    ('userName sw "b" or userName sw "B" and active eq false', {1, 2}),
    ('(userName sw "b" or userName sw "B") and active eq true', {1}),
    ("not (active pr) and tags eq null", {3}),
    # schema URN prefixes, in any case
    ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen"', {1}),
    ('URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName eq "bjensen"', {1}),
]


@pytest.mark.parametrize(("filter_text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_operator(conn: sa.Connection, filter_text: str, expected: set[int]) -> None:
    assert selected_ids(conn, filter_text) == expected
    reference = {uid for uid, res in RESOURCES.items() if matches(parse_filter(filter_text), res, case_exact)}
    assert reference == expected


INVALID: list[tuple[str, str]] = [
    ('nickName eq "x"', "'nickName' is not a supported filter attribute"),
    ('tags.colour eq "x"', "'tags.colour' is not a supported filter attribute"),
    ('tags[colour eq "x"]', "'tags.colour' is not a supported filter attribute"),
    ('urn:example:other:userName eq "x"', "Schema 'urn:example:other' is not supported"),
    ('password eq "secret"', "'password' cannot be used in a filter"),
    ("userName eq 1", "string attribute"),
    ("userName eq true", "string attribute"),
    ('active eq "true"', "boolean attribute"),
    ("active gt true", "booleans support eq and ne"),
    ("active co true", "booleans support eq and ne"),
    ("email co 5", "'co' needs a string value"),
    ('meta.lastModified gt "yesterday"', "dateTime attribute"),
    ('meta.lastModified co "2011"', "'co' is not supported"),
    ("meta.lastModified gt 5", "dateTime attribute"),
    ('loginCount eq "5"', "number attribute"),
    ('loginCount sw "5"', "'sw' is not supported"),
    ("loginCount eq 99999999999999999999", "out of range"),
    ('certificate gt "AQI="', "'gt' is not supported"),
    ('certificate eq "not base64!"', "base64"),
    ("email gt null", "cannot compare with null"),
    ('userName[value eq "x"]', "not a multi-valued attribute"),
]


@pytest.mark.parametrize(("filter_text", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_filters(filter_text: str, message: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        to_sql(parse_filter(filter_text), ATTRIBUTES, SCHEMAS)
    assert message in caught.value.detail
    assert caught.value.status == 400
    assert caught.value.scim_type == "invalidFilter"


def test_unknown_attribute_lists_supported_ones() -> None:
    with pytest.raises(InvalidFilter) as caught:
        to_sql(parse_filter('foo eq "x"'), ATTRIBUTES, SCHEMAS)
    detail = caught.value.detail
    assert "supported: " in detail
    assert "username" in detail and "tags.type" in detail
    assert "password" not in detail


def test_urn_qualified_map_key_wins() -> None:
    """An extension attribute registered under its URN is reached only through that URN."""
    number = Column(USERS.c.login_count, "integer", case_exact=False)
    attributes = {**ATTRIBUTES, f"{urns.ENTERPRISE_USER.lower()}:employeenumber": number}
    to_sql(parse_filter(f"{urns.ENTERPRISE_USER}:employeeNumber eq 1"), attributes, SCHEMAS)
    with pytest.raises(InvalidFilter):
        to_sql(parse_filter("employeeNumber eq 1"), attributes, SCHEMAS)


def test_value_filter_is_one_exists() -> None:
    """``tags[a and b]`` must be ONE correlated EXISTS so a single tag satisfies both."""
    condition = to_sql(parse_filter('tags[type eq "role" and value eq "x"]'), ATTRIBUTES, SCHEMAS)
    sql = str(condition.compile(dialect=sa.dialects.sqlite.dialect()))
    assert sql.count("EXISTS") == 1


def test_translation_builds_without_a_database() -> None:
    """The translator only builds an expression; compiling it for both dialects needs no engine."""
    from sqlalchemy.dialects import postgresql, sqlite

    condition = to_sql(parse_filter('userName gt "a" and tags co "x"'), ATTRIBUTES, SCHEMAS)
    assert 'COLLATE "C"' in str(condition.compile(dialect=postgresql.dialect()))
    assert "COLLATE" not in str(condition.compile(dialect=sqlite.dialect()))


def test_long_or_chain_translates(conn: sa.Connection) -> None:
    """Chains are flattened, so a 4096-character filter never nests deeply in SQL or Python."""
    text = " or ".join(f'userName eq "u{i}"' for i in range(180)) + ' or userName eq "jsmith"'
    assert len(text) <= 4096
    assert selected_ids(conn, text) == {3}


# ------------------------------------------------------------------------------------------
# filter_eval.matches on its own: what PATCH relies on, and resource shapes SQL never sees.

ENTERPRISE_USER = {
    "schemas": [urns.USER, urns.ENTERPRISE_USER],
    "userName": "bjensen",
    "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ],
    urns.ENTERPRISE_USER: {"employeeNumber": "701984", "manager": {"value": "26118915-6090"}},
    "meta": {"lastModified": "2011-05-13T04:42:34Z"},
}


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        (f'{urns.ENTERPRISE_USER}:employeeNumber eq "701984"', True),
        (f'{urns.ENTERPRISE_USER.upper()}:EMPLOYEENUMBER eq "701984"', True),
        (f'{urns.ENTERPRISE_USER}:manager.value eq "26118915-6090"', True),
        (f'{urns.USER}:userName eq "BJENSEN"', True),
        (f'{urns.GROUP}:userName eq "bjensen"', False),
        ('employeeNumber eq "701984"', False),
        ('emails[type eq "work" and value co "@example.com"]', True),
        ('emails[type eq "home" and value co "@example.com"]', False),
        ('emails.type eq "home" and emails.value co "@example.com"', True),
        ("emails[primary eq true]", True),
        ('emails co "JENSEN.ORG"', True),
        ("emails pr", True),
        ("ims pr", False),
        ('ims ne "x"', True),
        ("ims eq null", True),
        ('meta.lastModified lt "2011-05-13T06:00:00+02:00"', False),
        ('meta.lastModified gt "2011-05-13T06:00:00+02:00"', True),
        ('meta.lastModified eq "2011-05-13T04:42:34.000+00:00"', True),
        ('userName gt "2011"', True),
        ("userName eq 5", False),
        ("userName ne 5", True),
    ],
)
def test_evaluator_on_scim_json(filter_text: str, expected: bool) -> None:
    assert matches(parse_filter(filter_text), ENTERPRISE_USER) is expected


def test_evaluator_selects_patch_targets_with_parent_keys() -> None:
    """PATCH ``emails[type eq "work"]``: inner names are keyed ``emails.type`` for caseExact."""
    patch_filter = parse_filter('emails[type eq "WORK"]')
    assert isinstance(patch_filter, ValuePath)
    emails = ENTERPRISE_USER["emails"]
    assert [e["value"] for e in emails if matches(patch_filter.filter, e, parent="emails")] == [
        "bjensen@example.com"
    ]
    seen: list[str] = []

    def exact(key: str) -> bool:
        seen.append(key)
        return key == "emails.type"

    assert not [e for e in emails if matches(patch_filter.filter, e, exact, parent="emails")]
    assert set(seen) == {"emails.type"}


@pytest.mark.parametrize(
    "filter_text",
    ["active gt true", "userName co 5", "userName sw null", "userName lt false", "emails[value co true]"],
)
def test_evaluator_rejects_meaningless_operators(filter_text: str) -> None:
    """Errors depend on the filter only, so even a resource without the attribute raises."""
    with pytest.raises(InvalidFilter):
        matches(parse_filter(filter_text), {"emails": [{"value": "x"}]})
