"""``current_environ``, ``current_request`` and ``current_request_app`` are exactly Flask's
``request.environ``, ``request`` and ``current_app`` inside a request, and None outside."""

from __future__ import annotations

from flask import current_app, request

from scimgate.db.request_state import current_environ, current_request, current_request_app


def test_inside_a_request_it_is_the_requests_environ(app):
    with app.test_request_context("/scim/v2/Users?count=1", method="POST"):
        assert current_environ() is request.environ
        assert current_environ()["REQUEST_METHOD"] == "POST"
        with app.test_request_context("/healthz"):  # the innermost request wins, as for flask.request
            assert current_environ() is request.environ
            assert current_environ()["PATH_INFO"] == "/healthz"
        assert current_environ()["PATH_INFO"] == "/scim/v2/Users"


def test_the_request_and_its_app_are_flasks_own(app):
    with app.test_request_context("/scim/v2/Users"):
        assert current_request() is request._get_current_object()
        assert current_request_app() is current_app._get_current_object() is app


def test_outside_a_request_there_is_none(app):
    assert current_environ() is None and current_request() is None and current_request_app() is None
    with app.app_context():
        assert current_environ() is None and current_request() is None and current_request_app() is None
