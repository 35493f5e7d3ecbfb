"""Issue 16: no JSON body is a 500. Numbers Python cannot (or should not) read, NaN/Infinity,
deep nesting, lone surrogates and NUL are a 400 with a scimType and a sentence, on every SCIM
write and search and on the /api/v1 JSON API, and change nothing."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimgate.scim import json_input, urns
from scimgate.scim.errors import InvalidValue
from tests.support.bad_input import SCIM_JSON, api_raw, assert_scim_error
from tests.support.signin import add_admin, configure_dev_saml, password_sign_in

# (JSON value text, expected scimType, a word of the detail)
BAD_VALUES = [
    pytest.param("1" * 5000, "invalidValue", "digits", id="5000-digit-integer"),
    pytest.param("-" + "9" * 4301, "invalidValue", "digits", id="4301-digit-negative"),
    pytest.param("1e999999", "invalidValue", "out of range", id="huge-exponent"),
    pytest.param("-1e400", "invalidValue", "out of range", id="negative-infinity-by-exponent"),
    pytest.param("1" * 400 + ".5", "invalidValue", "out of range", id="huge-float"),
    pytest.param("NaN", "invalidSyntax", "NaN", id="NaN"),
    pytest.param("-Infinity", "invalidSyntax", "Infinity", id="Infinity"),
    # 40 KB: far deeper than the 64 levels allowed, yet under every body cap (a larger body is 413)
    pytest.param("[" * 20_000 + "]" * 20_000, "invalidSyntax", "nested", id="deep-nesting"),
    pytest.param('"\\ud800"', "invalidSyntax", "surrogate", id="lone-surrogate"),
    pytest.param('"a\\u0000b"', "invalidSyntax", "NUL", id="NUL"),
]


@pytest.mark.parametrize(
    ("text", "error", "words"),
    [
        ("1" * 4301, InvalidValue, r"\$ is a number with 4301 digits"),
        ("[1e999999]", InvalidValue, r"\$\[0\] is the number 1e999999, out of range"),
        ('{"a": -1e400}', InvalidValue, r"\$\.a is the number -1e400, out of range"),
    ],
)
def test_numbers_python_cannot_hold_are_refused(text: str, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        json_input.loads(text)


def test_numbers_within_range_parse_as_json_does() -> None:
    text = '{"a": ' + "1" * 4300 + ', "b": 1e-99999, "c": 1.7976931348623157e308, "d": -0.0}'
    assert json_input.loads(text) == json.loads(text)


def _body(kind: str, value: str) -> bytes:
    if kind == "Users":
        text = f'{{"schemas": ["{urns.USER}"], "userName": "someone", "title": {value}}}'
    elif kind == "Groups":
        text = f'{{"schemas": ["{urns.GROUP}"], "displayName": "team", "x": {value}}}'
    elif kind == "patch":
        text = (
            f'{{"schemas": ["{urns.PATCH_OP}"], "Operations": '
            f'[{{"op": "replace", "path": "displayName", "value": {value}}}]}}'
        )
    else:
        text = f'{{"schemas": ["{urns.SEARCH_REQUEST}"], "count": {value}}}'
    return text.encode()


def _snapshot(scim) -> tuple:
    users = scim.get("/Users").get_json()["Resources"]
    groups = scim.get("/Groups").get_json()["Resources"]
    return (users, groups)


@pytest.mark.parametrize(("value", "scim_type", "word"), BAD_VALUES)
def test_every_scim_write_and_search_refuses_the_value_and_changes_nothing(scim, value, scim_type, word):
    user = scim.post("/Users", json={"schemas": [urns.USER], "userName": "bjensen"}).get_json()
    group = scim.post("/Groups", json={"schemas": [urns.GROUP], "displayName": "g"}).get_json()
    before = _snapshot(scim)
    requests = [
        ("POST", "/Users", _body("Users", value)),
        ("PUT", f"/Users/{user['id']}", _body("Users", value)),
        ("PATCH", f"/Users/{user['id']}", _body("patch", value)),
        ("POST", "/Groups", _body("Groups", value)),
        ("PUT", f"/Groups/{group['id']}", _body("Groups", value)),
        ("PATCH", f"/Groups/{group['id']}", _body("patch", value)),
        ("POST", "/.search", _body("search", value)),
        ("POST", "/Users/.search", _body("search", value)),
        ("POST", "/Groups/.search", _body("search", value)),
    ]
    for method, path, data in requests:
        response = scim.client.open(
            "/scim/v2" + path, method=method, data=data, headers={**scim.headers, **SCIM_JSON}
        )
        assert_scim_error(response, 400, scim_type, word)
    assert _snapshot(scim) == before


@pytest.fixture
def admin_client(app: Flask, client: FlaskClient) -> FlaskClient:
    """A signed-in built-in Server Admin on /api/v1."""
    configure_dev_saml(app)
    with app.app_context():
        add_admin()
    assert password_sign_in(client, "admin").status_code == 302
    return client


def _admin_state(client: FlaskClient, user_id: int) -> tuple:
    groups = client.get("/api/v1/groups").get_json()
    return (
        groups,
        client.get(f"/api/v1/users/{user_id}").get_json(),
        client.get("/api/v1/settings").get_json(),
    )


@pytest.mark.parametrize(("value", "scim_type", "word"), BAD_VALUES)
def test_the_admin_json_api_refuses_the_value_and_changes_nothing(admin_client, value, scim_type, word):
    me = admin_client.get("/api/v1/session").get_json()["user"]
    before = _admin_state(admin_client, me["id"])
    for method, path, data in [
        ("POST", "/groups", f'{{"name": {value}}}'.encode()),
        ("PATCH", f"/users/{me['id']}/profile", f'{{"display_name": {value}}}'.encode()),
        ("PUT", "/settings", f'{{"moderation": {value}}}'.encode()),
    ]:
        response = api_raw(admin_client, method, path, data)
        assert response.status_code == 400, response.get_data(as_text=True)[:300]
        body = response.get_json()
        assert body["error"] == "invalid_body"
        assert word in body["detail"], body
    assert _admin_state(admin_client, me["id"]) == before


# --- property: whatever odd JSON an IdP sends, the answer is a 201 or a SCIM 400/409, never a 500


def _string_literal(code_points: list[int]) -> str:
    """A JSON string literal; every code point below U+10000 (surrogates too) as a \\u escape."""
    return '"' + "".join(f"\\u{c:04x}" if c < 0x10000 else chr(c) for c in code_points) + '"'


ODD_NUMBERS = [
    "0",
    "-0",
    "1e309",
    "-1e309",
    "1e-400",
    "1" * 4301,
    "1234567890" * 9,
    "5e-6",
    "NaN",
    "Infinity",
]
_strings = st.lists(st.integers(0, 0x10FFFF), max_size=12).map(_string_literal)
_scalars = st.one_of(
    _strings, st.sampled_from(ODD_NUMBERS), st.sampled_from(["true", "false", "null"]), st.integers().map(str)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(_strings, inner), max_size=3).map(
            lambda kvs: "{" + ", ".join(f"{k}: {v}" for k, v in kvs) + "}"
        ),
    ),
    max_leaves=8,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(user_name=_strings, display=_values, extra=_values)
def test_odd_json_in_a_user_is_never_a_server_error(scim, user_name, display, extra):
    text = (
        f'{{"schemas": ["{urns.USER}"], "userName": {user_name}, "displayName": {display}, '
        f'"name": {{"givenName": {display}}}, "x": {extra}}}'
    )
    response = scim.client.post("/scim/v2/Users", data=text.encode(), headers={**scim.headers, **SCIM_JSON})
    assert response.status_code in (201, 400, 409), response.get_data(as_text=True)[:300]
    body = response.get_json()
    if response.status_code == 201:
        assert body["userName"] == json.loads(user_name)
    else:
        assert body["scimType"] and body["detail"]
