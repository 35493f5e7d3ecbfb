"""``current_environ`` is exactly ``flask.request.environ`` inside a request, and None outside."""

from __future__ import annotations

from flask import request

from scimgate.request_env import current_environ


def test_inside_a_request_it_is_the_requests_environ(app):
    with app.test_request_context("/scim/v2/Users?count=1", method="POST"):
        assert current_environ() is request.environ
        assert current_environ()["REQUEST_METHOD"] == "POST"
        with app.test_request_context("/healthz"):  # the innermost request wins, as for flask.request
            assert current_environ() is request.environ
            assert current_environ()["PATH_INFO"] == "/healthz"
        assert current_environ()["PATH_INFO"] == "/scim/v2/Users"


def test_outside_a_request_there_is_none(app):
    assert current_environ() is None
    with app.app_context():
        assert current_environ() is None
