"""Filtering, sorting, paging and .search (RFC 7644 §3.4.2, §3.4.3), translated to SQL."""

from __future__ import annotations

import pytest

from scimgate.scim import urns
from tests.support.resources import assert_error, new_group, new_user
from tests.support.sql_counter import count_statements


def listing(scim, **params) -> dict:
    response = scim.get("/Users", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def names(body: dict) -> list[str]:
    return [r["userName"] for r in body["Resources"]]


@pytest.fixture
def people(scim) -> dict[str, dict]:
    return {
        "bjensen": new_user(
            scim,
            "bjensen",
            externalId="ext-1",
            name={"givenName": "Barbara", "familyName": "Jensen"},
            emails=[{"value": "bjensen@example.com", "type": "work", "primary": True}],
        ),
        "jsmith": new_user(
            scim,
            "jsmith",
            name={"givenName": "John", "familyName": "Smith"},
            emails=[{"value": "john@home.org", "type": "home"}],
            displayName="Johnny",
        ),
        "Mjensen": new_user(scim, "Mjensen", name={"familyName": "jensen"}, active=False),
    }


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('userName eq "bjensen"', ["bjensen"]),
        ('userName eq "BJENSEN"', []),  # case-sensitive (the reference), and /Schemas says caseExact
        ('USERNAME eq "jsmith"', ["jsmith"]),  # attribute names are case-insensitive
        ('userName ne "bjensen"', ["jsmith", "Mjensen"]),
        ('userName co "jens"', ["bjensen", "Mjensen"]),
        ('userName sw "J"', []),
        ('userName ew "SEN"', []),
        ('name.familyName eq "JENSEN"', ["bjensen", "Mjensen"]),  # caseExact false
        ('name.familyName sw "j" and not (userName eq "Mjensen")', ["bjensen"]),
        ('emails co "example.com"', ["bjensen"]),
        ('emails[type eq "work" and value co "@example.com"]', ["bjensen"]),
        ('emails[type eq "work"].value eq "bjensen@example.com"', None),  # not a filter form: 400
        ('emails.type eq "home"', ["jsmith"]),
        ('externalId eq "ext-1"', ["bjensen"]),
        ("displayName pr", ["jsmith"]),
        ("active eq false", ["Mjensen"]),
        ('userName eq "jsmith" or userName eq "bjensen"', ["bjensen", "jsmith"]),
        ('(userName eq "jsmith" or userName eq "bjensen") and name.givenName eq "john"', ["jsmith"]),
        ('meta.lastModified gt "2011-05-13T04:42:34Z"', ["bjensen", "jsmith", "Mjensen"]),
        ('meta.lastModified lt "2011-05-13T04:42:34Z"', []),
        (f'{urns.USER}:userName eq "bjensen"', ["bjensen"]),
    ],
)
def test_filters(scim, people, expression, expected):
    response = scim.get("/Users", query_string={"filter": expression})
    if expected is None:
        assert_error(response, 400, "invalidFilter")
        return
    assert response.status_code == 200, response.get_json()
    assert sorted(names(response.get_json())) == sorted(expected)


def test_filter_by_id(scim, people):
    target = people["jsmith"]["id"]
    assert names(listing(scim, filter=f'id eq "{target}"')) == ["jsmith"]


@pytest.mark.parametrize(
    "expression",
    ["userName eq", 'userName xx "a"', 'title eq "x"', 'userName eq "a" and', 'active eq "yes"', "((", ""],
)
def test_invalid_or_unsupported_filters_are_400_invalid_filter(scim, people, expression):
    if expression == "":
        assert listing(scim, filter=expression)["totalResults"] == 3
        return
    assert_error(scim.get("/Users", query_string={"filter": expression}), 400, "invalidFilter")


def test_no_match_is_an_empty_list_response(scim):
    body = listing(scim, filter='userName eq "nobody"')
    assert body == {
        "schemas": [urns.LIST_RESPONSE],
        "totalResults": 0,
        "itemsPerPage": 0,
        "startIndex": 1,
        "Resources": [],
    }


def test_paging_is_one_based_stable_and_counts_are_integers(scim):
    for i in range(7):
        new_user(scim, f"user{i}")
    seen = []
    for start in (1, 3, 5, 7):
        body = listing(scim, startIndex=start, count=2)
        assert body["totalResults"] == 7
        assert body["startIndex"] == start
        assert body["itemsPerPage"] == len(body["Resources"])
        seen.extend(names(body))
    assert seen == [f"user{i}" for i in range(7)]


def test_count_zero_and_out_of_range_values(scim, app):
    for i in range(3):
        new_user(scim, f"user{i}")
    body = listing(scim, count=0)
    assert body["totalResults"] == 3 and body["Resources"] == [] and body["itemsPerPage"] == 0
    assert listing(scim, startIndex=0, count=1)["startIndex"] == 1
    assert listing(scim, startIndex=-5)["Resources"][0]["userName"] == "user0"
    assert listing(scim, count=-1)["Resources"] == []
    app.config["SCIM_MAX_RESULTS"] = 2
    try:
        assert listing(scim, count=50)["itemsPerPage"] == 2
    finally:
        app.config["SCIM_MAX_RESULTS"] = 1000
    assert listing(scim, startIndex=10)["Resources"] == []
    assert_error(scim.get("/Users", query_string={"count": "ten"}), 400, "invalidValue", "count")


def test_sorting(scim, people):
    assert names(listing(scim, sortBy="userName")) == ["Mjensen", "bjensen", "jsmith"]
    assert names(listing(scim, sortBy="userName", sortOrder="descending")) == ["jsmith", "bjensen", "Mjensen"]
    assert_error(scim.get("/Users", query_string={"sortBy": "nope"}), 400, "invalidValue", "nope")
    assert_error(scim.get("/Users", query_string={"sortOrder": "up"}), 400, "invalidValue", "sortOrder")


def test_attributes_on_a_list(scim, people):
    body = listing(scim, attributes="userName", filter='userName eq "bjensen"')
    assert body["Resources"] == [
        {"schemas": [urns.USER], "id": people["bjensen"]["id"], "userName": "bjensen"}
    ]
    body = listing(scim, excludedAttributes="emails,name,meta", filter='userName eq "bjensen"')
    assert set(body["Resources"][0]) == {"schemas", "id", "externalId", "userName", "active"}


def test_search_endpoint_matches_get(scim, people):
    request = {
        "schemas": [urns.SEARCH_REQUEST],
        "attributes": ["userName"],
        "filter": 'name.familyName eq "jensen"',
        "sortBy": "userName",
        "startIndex": 1,
        "count": 10,
    }
    response = scim.post("/Users/.search", json=request)
    assert response.status_code == 200
    assert names(response.get_json()) == ["Mjensen", "bjensen"]
    assert_error(scim.post("/Users/.search", json={"filter": "bad filter"}), 400, "invalidFilter")


def test_root_search_spans_users_and_groups(scim, people):
    new_group(scim, "Guides")
    body = scim.post("/.search", json={"schemas": [urns.SEARCH_REQUEST]}).get_json()
    assert body["totalResults"] == 4
    assert [r["schemas"][0] for r in body["Resources"]] == [urns.USER] * 3 + [urns.GROUP]
    paged = scim.post("/.search", json={"startIndex": 3, "count": 2}).get_json()
    assert [r.get("userName") or r.get("displayName") for r in paged["Resources"]] == ["Mjensen", "Guides"]
    only_groups = scim.post("/.search", json={"filter": 'displayName eq "Guides"'}).get_json()
    assert only_groups["totalResults"] == 1
    assert_error(scim.post("/.search", json={"filter": 'nope eq "x"'}), 400, "invalidFilter")


def test_list_statements_do_not_grow_with_page_size(app, scim):
    users = [new_user(scim, f"user{i:02d}")["id"] for i in range(30)]
    new_group(scim, "G1", members=users[:10])
    new_group(scim, "G2", members=users[5:])

    def statements_for(**params) -> int:
        with count_statements(app) as statements:
            assert scim.get("/Users", query_string=params).status_code == 200
        return len(statements)

    small, large = statements_for(count=2), statements_for(count=30)
    assert small == large
    filtered_small = statements_for(count=2, filter='userName sw "user" and emails pr or active eq true')
    filtered_large = statements_for(count=30, filter='userName sw "user" and emails pr or active eq true')
    assert filtered_small == filtered_large


def test_cursor_pagination_walks_every_user_once(scim):
    for i in range(7):
        new_user(scim, f"user{i}")
    seen, cursor, pages = [], "", 0
    while cursor is not None:
        body = listing(scim, cursor=cursor, count=3)
        assert "startIndex" not in body
        assert body["totalResults"] == 7
        assert body["itemsPerPage"] == len(body["Resources"])
        seen.extend(names(body))
        cursor = body.get("nextCursor")
        pages += 1
    assert seen == [f"user{i}" for i in range(7)]
    assert pages == 3


def test_cursor_pagination_with_sort_and_filter(scim):
    for name in ("delta", "alpha", "charlie", "bravo", "echo"):
        new_user(scim, name, active=name != "charlie")
    first = listing(
        scim, cursor="", count=2, sortBy="userName", sortOrder="descending", filter="active eq true"
    )
    assert names(first) == ["echo", "delta"]
    second = listing(
        scim,
        cursor=first["nextCursor"],
        count=2,
        sortBy="userName",
        sortOrder="descending",
        filter="active eq true",
    )
    assert names(second) == ["bravo", "alpha"]
    assert "nextCursor" not in second


def test_cursors_are_tamper_proof_and_bound_to_their_query(scim):
    for i in range(3):
        new_user(scim, f"user{i}")
    cursor = listing(scim, cursor="", count=1)["nextCursor"]
    assert_error(scim.get("/Users", query_string={"cursor": cursor + "x", "count": 1}), 400, "invalidCursor")
    assert_error(scim.get("/Users", query_string={"cursor": "garbage", "count": 1}), 400, "invalidCursor")
    other_query = {"cursor": cursor, "count": 1, "filter": 'userName sw "u"'}
    assert_error(scim.get("/Users", query_string=other_query), 400, "invalidCursor", "different query")
    assert_error(
        scim.get("/Users", query_string={"cursor": "", "startIndex": 2}), 400, "invalidValue", "cursor"
    )
    groups_cursor = scim.get("/Groups", query_string={"cursor": cursor}).get_json()
    assert groups_cursor["scimType"] == "invalidCursor"


def test_service_provider_config_advertises_both_pagination_methods(scim):
    pagination = scim.get("/ServiceProviderConfig").get_json()["pagination"]
    assert pagination["cursor"] is True and pagination["index"] is True
    assert pagination["maxPageSize"] == 1000


def _statements_for(app, scim, **params) -> tuple[dict, list[str]]:
    with count_statements(app) as statements:
        response = scim.get("/Users", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json(), statements


@pytest.mark.parametrize("attribute", ["userName", "urn:ietf:params:scim:schemas:core:2.0:User:userName"])
def test_username_lookup_is_one_statement_with_the_groups(app, scim, attribute):
    """The IdP's lookup before a create: the user and its groups in one SELECT."""
    user = new_user(scim, "bjensen", emails=[{"value": "b@example.com", "type": "work", "primary": True}])
    new_user(scim, "other")
    group = new_group(scim, "Tour Guides", members=[user["id"]])
    body, statements = _statements_for(app, scim, filter=f'{attribute} eq "bjensen"')
    assert body["totalResults"] == 1 and body["itemsPerPage"] == 1 and body["startIndex"] == 1
    found = body["Resources"][0]
    assert found == scim.get(f"/Users/{user['id']}").get_json()
    assert found["groups"] == [
        {
            "value": group["id"],
            "$ref": f"http://localhost/scim/v2/Groups/{group['id']}",
            "display": "Tour Guides",
        }
    ]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    token_reads = [s for s in selects if "scimgate_conf_version" in s]  # every request's config check
    assert len(token_reads) == 1
    assert len(selects) == 2  # that, and the user with its groups


def test_lookups_by_username_and_id_keep_list_semantics(scim):
    user = new_user(scim, "bjensen")
    assert listing(scim, filter='userName eq "BJENSEN"')["totalResults"] == 0  # case-sensitive
    assert names(listing(scim, filter=f'id eq "{user["id"]}"')) == ["bjensen"]
    assert listing(scim, filter='id eq "not-a-uuid"')["totalResults"] == 0
    beyond = listing(scim, filter='userName eq "bjensen"', startIndex=2)
    assert beyond["totalResults"] == 1 and beyond["Resources"] == [] and beyond["startIndex"] == 2
    counted = listing(scim, filter='userName eq "bjensen"', count=0)
    assert counted["totalResults"] == 1 and counted["Resources"] == []
    narrowed = listing(scim, filter='userName eq "bjensen"', attributes="userName")
    assert narrowed["Resources"] == [{"schemas": [urns.USER], "id": user["id"], "userName": "bjensen"}]
    assert_error(
        scim.get("/Users", query_string={"filter": 'userName eq "x"', "sortBy": "nope"}), 400, "invalidValue"
    )
    missing = listing(scim, filter='userName eq "nobody"')
    assert missing["totalResults"] == 0 and missing["Resources"] == []


@pytest.mark.parametrize("order", ["ascending", "descending"])
def test_startindex_pages_cover_every_user_once_in_order(scim, order):
    """Unfiltered pages skip their offset in the link table's key index, then join the rows."""
    created = [new_user(scim, f"walker{i:02d}")["userName"] for i in range(11)]
    expected = created if order == "ascending" else list(reversed(created))
    seen = []
    for start in range(1, 13, 3):
        body = listing(scim, startIndex=start, count=3, sortOrder=order)
        assert body["totalResults"] == 11 and body["startIndex"] == start
        seen += names(body)
    assert seen == expected
    assert listing(scim, startIndex=11, count=5)["itemsPerPage"] == 1
    for count in (1, 2, 4, 5, 11, 20):  # pages in both halves, read from either end
        seen = []
        for start in range(1, 12, count):
            seen += names(listing(scim, startIndex=start, count=count, sortOrder=order))
        assert seen == expected, count


def test_a_page_in_the_second_half_is_read_from_the_other_end(app, scim):
    """OFFSET walks the rows it skips: the last page must skip none, whatever the total."""
    for i in range(10):
        new_user(scim, f"ender{i:02d}")

    def key_reads(**params) -> list[str]:
        with count_statements(app) as recorded:
            assert scim.get("/Users", query_string=params).status_code == 200
        return [s for s in recorded if "ORDER BY scim_user.user_id" in s]

    first, last = key_reads(startIndex=1, count=3), key_reads(startIndex=8, count=3)
    assert "ORDER BY scim_user.user_id ASC" in first[0]
    assert "ORDER BY scim_user.user_id DESC" in last[0]
    assert "ORDER BY scim_user.user_id ASC" in key_reads(startIndex=8, count=3, sortOrder="descending")[0]
