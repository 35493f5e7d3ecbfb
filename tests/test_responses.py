"""``ScimJsonResponse`` sends a plain ``Location`` as it is, exactly what werkzeug's IRI-to-URI
conversion would have sent, and still converts every other value."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.urls import iri_to_uri

from scimgate.api.responses import ScimJsonResponse, is_plain_url

_LABEL = st.text("abcxyz019-", min_size=1, max_size=64)
_PATH = st.text("AZaz09._~/-%ä ?#:@", max_size=40).map(lambda p: "/" + p)
_URLS = st.builds(
    lambda scheme, labels, port, path: f"{scheme}://{'.'.join(labels)}{port}{path}",
    st.sampled_from(["http", "https", "HTTP", "ftp"]),
    st.lists(_LABEL | st.sampled_from(["Example", "xn--n3h", "127", ""]), min_size=1, max_size=4),
    st.sampled_from(["", ":80", ":8080", ":56729", ":65535", ":65536", ":0", ":080", ":99999"]),
    _PATH | st.just(""),
)


@given(_URLS | st.text(max_size=60))
def test_a_plain_url_is_exactly_what_werkzeug_would_send(url):
    if is_plain_url(url):
        assert iri_to_uri(url) == url


def test_the_locations_scimgate_builds_are_plain():
    assert is_plain_url("http://127.0.0.1:56729/scim/v2/Users/a43a249e-0a63-494b-8ecc-63c459454c8c")
    assert is_plain_url("https://scim.example.com/scim/v2/Groups/5")
    assert not is_plain_url("http://Example.com/x")  # werkzeug lower-cases the host
    assert not is_plain_url("http://example.com/p%C3%A5th?q=1")  # a query: werkzeug's conversion


def _sent_location(location: str) -> str:
    response = ScimJsonResponse("{}", status=201)
    response.headers["Location"] = location
    headers = response.get_wsgi_headers({"wsgi.url_scheme": "http", "SERVER_NAME": "x", "SERVER_PORT": "80"})
    assert response.headers["Location"] == location  # the response itself is left as it was
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
    assert is_plain_url(post.headers["Location"])
