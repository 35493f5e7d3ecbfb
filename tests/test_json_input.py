"""Strict JSON input: every refusal holds whether or not the walk over the values is needed."""

from __future__ import annotations

import json

import pytest

from scimgate.scim import json_input
from scimgate.scim.errors import InvalidSyntax


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"userName": "a\\u0000b"}', "NUL"),
        ('{"a\\u0000": 1}', "NUL"),
        ('{"userName": "\\ud800"}', "surrogate"),
        ('{"userName": "\ud800"}', "surrogate"),  # a raw lone surrogate in the text itself
        ("[" * 65 + "]" * 65, "nested deeper"),
        ('{"a": ' * 65 + "1" + "}" * 65, "nested deeper"),
        ('{"n": NaN}', "not a JSON number"),
    ],
)
def test_what_no_database_can_store_is_refused(text: str, words: str) -> None:
    with pytest.raises(InvalidSyntax, match=words):
        json_input.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"userName": "bjensen", "name": {"givenName": "Bárbara"}, "emails": [{"value": "b@x.org"}]}',
        '{"displayName": "' + "[{" * 50 + '"}',  # brackets inside a string: walked, and fine
        '{"userName": "caf\\u00e9"}',  # an escape: walked, and fine
        "[" * 64 + "]" * 64,  # exactly the limit
    ],
)
def test_valid_documents_parse_as_json_does(text: str) -> None:
    assert json_input.loads(text) == json.loads(text)
