"""``RequestState``: one typed object per request, seen by everything the request runs, never
by another request, and absent outside a request.

Real requests go through the app; ``flask.request_finished`` (sent while the request is still
current) hands each request's state to the test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask, request, request_finished
from flask.testing import FlaskClient

from scimgate.db import transactions
from scimgate.db.request_state import RequestState, ScimgateRequest, current_request, current_state


@pytest.fixture
def seen(app: Flask) -> Iterator[list[RequestState]]:
    """The state of every request the app finishes during the test, in order."""
    states: list[RequestState] = []

    def keep(sender: Flask, **_: object) -> None:
        state = current_state()
        assert state is not None
        states.append(state)

    with request_finished.connected_to(keep, app):
        yield states


def test_a_scim_request_keeps_its_state_in_one_object(
    client: FlaskClient, scim_headers: dict[str, str], seen: list[RequestState]
) -> None:
    headers = {**scim_headers, "X-Request-Id": "idp-req-0123456789"}
    response = client.get("/scim/v2/Users?count=1", headers=headers)
    assert response.status_code == 200
    (state,) = seen
    assert state.is_scim
    assert state.request_id == response.headers["X-Request-Id"] == "idp-req-0123456789"
    assert state.started_at is not None
    assert state.conf_snapshot is not None  # the configuration was read once, for this request
    assert state.auth_reason is None and state.refusal is None


def test_a_created_resource_s_location_comes_from_the_state_s_base_url(
    client: FlaskClient, scim_headers: dict[str, str], seen: list[RequestState]
) -> None:
    response = client.post(
        "/scim/v2/Users",
        headers={**scim_headers, "Content-Type": "application/scim+json"},
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "state@example.com"},
    )
    assert response.status_code == 201
    (state,) = seen
    assert state.base_url == "http://localhost/scim/v2"
    assert response.headers["Location"].startswith(state.base_url + "/Users/")
    assert state.client == "okta" and state.hooks is not None  # the active client, looked up once
    assert state.commit_sent and state.committed_scim_write


def test_a_refusal_stays_with_its_request(
    client: FlaskClient, scim_headers: dict[str, str], seen: list[RequestState]
) -> None:
    refused = client.get("/scim/v2/Users", headers={"Authorization": "Bearer not-the-token"})
    served = client.get("/scim/v2/Users", headers=scim_headers)
    assert (refused.status_code, served.status_code) == (401, 200)
    first, second = seen
    assert first is not second
    assert first.auth_reason and first.refusal and first.refusal.startswith("401")
    assert second.auth_reason is None and second.refusal is None  # nothing leaked into the next one
    assert first.request_id != second.request_id


def test_a_page_outside_scim_has_a_state_but_is_not_scim(
    client: FlaskClient, seen: list[RequestState]
) -> None:
    response = client.get("/healthz")
    (state,) = seen
    assert not state.is_scim and state.request_id == response.headers["X-Request-Id"]
    assert not state.commit_sent


def test_each_request_object_has_its_own_state_and_the_innermost_wins(app: Flask) -> None:
    with app.test_request_context("/scim/v2/Users", method="POST"):
        outer = current_state()
        assert isinstance(request._get_current_object(), ScimgateRequest)
        assert outer is request.state and outer is current_state()  # made once, then the same
        assert outer is not None and outer.is_scim
        with app.test_request_context("/healthz"):
            inner = current_state()
            assert inner is not None and inner is not outer and not inner.is_scim
            assert current_request() is request._get_current_object()
        assert current_state() is outer


def test_outside_a_request_there_is_none(app: Flask) -> None:
    assert current_state() is None and current_request() is None
    with app.app_context():
        assert current_state() is None and current_request() is None


def test_write_transaction_works_outside_a_request_and_restores_the_flag(app: Flask) -> None:
    with app.app_context(), transactions.write_transaction():
        assert current_state() is None
    with app.test_request_context("/scim/v2/Users"):
        state = current_state()
        assert state is not None and not state.write_lock
        with transactions.write_transaction():
            assert state.write_lock
        assert not state.write_lock


def test_every_field_has_a_type_and_a_default_but_is_scim() -> None:
    fields = {field.name: field for field in dataclasses.fields(RequestState)}
    assert all(field.type for field in fields.values())
    assert RequestState(is_scim=False) == RequestState(is_scim=False)  # a fresh state holds nothing
    assert [name for name, field in fields.items() if field.default is dataclasses.MISSING] == ["is_scim"]
