"""SCIM JSON responses: the ``Location`` of a created resource is the one in its body, sent as
werkzeug sends every ``Location`` (its IRI-to-URI conversion), and the media type is SCIM's."""

from __future__ import annotations

from werkzeug.urls import iri_to_uri

from scimgate.api.responses import scim_json

_ENVIRON = {"wsgi.url_scheme": "http", "SERVER_NAME": "x", "SERVER_PORT": "80"}


def _sent_location(location: str) -> str:
    response = scim_json({}, 201, {"Location": location})
    headers = response.get_wsgi_headers(_ENVIRON)
    assert response.headers["Location"] == location  # the response itself is left as it was
    assert response.headers["Content-Type"] == "application/scim+json; charset=utf-8"
    return headers["Location"]


def test_plain_and_other_locations_are_sent_as_werkzeug_sends_them():
    for location in (
        "http://127.0.0.1:8000/scim/v2/Users/1",
        "http://\u2603.net/p\xe5th?q=\xe8ry%DF",
        "https://Example.COM:443/a b",
    ):
        assert _sent_location(location) == iri_to_uri(location)


def test_a_created_user_has_its_plain_location(scim):
    from tests.support.resources import new_user

    created = new_user(scim, "located")
    response = scim.get(f"/Users/{created['id']}")
    assert response.status_code == 200
    post = scim.post("/Users", json={"schemas": created["schemas"], "userName": "located.two"})
    assert post.headers["Location"] == post.get_json()["meta"]["location"]
    assert iri_to_uri(post.headers["Location"]) == post.headers["Location"]  # a plain URL
