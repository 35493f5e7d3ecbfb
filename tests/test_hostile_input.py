"""Input that JSON parsers accept but databases cannot store is refused cleanly, changing nothing."""

from __future__ import annotations

import pytest

from tests.support.resources import assert_error, new_user


@pytest.mark.parametrize(
    ("data", "word"),
    [
        (b'{"userName": "a\\u0000b"}', "NUL"),
        (b'{"userName": "\\ud800"}', "surrogate"),
        (b'{"userName": "a", "name": {"givenName": "\\udfff"}}', "surrogate"),
        (b'{"userName": "a", "\\u0000": 1}', "NUL"),
        (b'{"userName": "a", "x": NaN}', "NaN"),
        (b'{"userName": "a", "x": Infinity}', "Infinity"),
        (b'{"userName": "a", "x": ' + b"[" * 100 + b"]" * 100 + b"}", "nested"),
        (b'{"userName": "a", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested"),
    ],
)
def test_unstorable_json_is_400_invalid_syntax(scim, data, word):
    response = scim.post("/Users", data=data, headers={"Content-Type": "application/scim+json"})
    assert_error(response, 400, "invalidSyntax", word)
    assert scim.get("/Users").get_json()["totalResults"] == 0


@pytest.mark.parametrize(
    "resource_id", ["%00", "a%00b", "not-a-uuid", "2819C223-7F76-453A-919D-413861904646", "x" * 5000]
)
@pytest.mark.parametrize("kind", ["Users", "Groups"])
def test_malformed_ids_are_404(scim, kind, resource_id):
    assert_error(scim.get(f"/{kind}/{resource_id}"), 404, None, "not found")
    assert_error(scim.delete(f"/{kind}/{resource_id}"), 404, None)


def test_nul_in_query_parameters_is_400(scim):
    new_user(scim)
    for params in ({"filter": 'userName eq "a\x00"'}, {"sortBy": "user\x00Name"}, {"attributes": "a\x00"}):
        assert_error(scim.get("/Users", query_string=params), 400, "invalidSyntax", "NUL")


def test_patch_with_unstorable_value_changes_nothing(scim):
    user = new_user(scim)
    body = (
        b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": '
        b'[{"op": "replace", "path": "displayName", "value": "\\ud83d"}]}'
    )
    response = scim.patch(
        f"/Users/{user['id']}", data=body, headers={"Content-Type": "application/scim+json"}
    )
    assert_error(response, 400, "invalidSyntax", "surrogate")
    assert scim.get(f"/Users/{user['id']}").get_json() == user
