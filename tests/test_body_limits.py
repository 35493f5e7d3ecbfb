"""Request body caps per route and caps on what one SCIM request carries (issue 16, exhaustion).

The 413 comes from the route's cap before the body is read, parsed or authenticated; the
socket-level tests prove it against a real server (a declared huge body gets its answer at once,
a chunked one is cut off at the cap) and the gunicorn test checks a worker's memory stays flat.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder

from scimgate.api.body_limits import CappedInput
from scimgate.scim import urns
from scimgate.scim.errors import PayloadTooLarge
from tests.support.body_limits import (
    chunked_upload,
    claim_length,
    rss_bytes,
    send_whole,
    worker_pids,
)
from tests.support.gunicorn_server import fresh_database, gunicorn
from tests.support.live_server import live_server
from tests.support.scim import DATA_DIR

GIB = 1024**3
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SCIM_JSON = {"Content-Type": "application/scim+json"}


def assert_scim_413(response, setting: str, limit: int) -> None:
    body = response.get_json() if hasattr(response, "get_json") else response.json()
    assert response.status_code == 413, body
    assert body["schemas"] == [urns.ERROR]
    assert body["status"] == "413"
    assert f"at most {limit} bytes ({setting})" in body["detail"]


def padded_user(size: int) -> dict:
    """A valid user body of about ``size`` bytes (the padding is an attribute scimgate drops)."""
    return {"schemas": [urns.USER], "userName": "padded", "nickName": "x" * size}


# --- caps through the app --------------------------------------------------------------------


def test_a_user_body_over_its_cap_is_a_scim_413_naming_the_limit(app, scim):
    limit = app.config["SCIM_MAX_BODY_USER"]
    assert_scim_413(scim.post("/Users", json=padded_user(limit)), "SCIM_MAX_BODY_USER", limit)
    assert_scim_413(scim.put("/Users/any", json=padded_user(limit)), "SCIM_MAX_BODY_USER", limit)
    assert scim.get("/Users").get_json()["totalResults"] == 0
    assert scim.post("/Users", json=padded_user(limit - 1000)).status_code == 201


def test_a_group_body_may_be_larger_than_a_user_body(app, scim):
    size = app.config["SCIM_MAX_BODY_USER"] + 1000
    group = {"schemas": [urns.GROUP], "displayName": "big", "description": "x" * size}
    assert scim.post("/Groups", json=group).status_code == 201
    limit = app.config["SCIM_MAX_BODY_GROUP"]
    group["description"] = "x" * limit
    assert_scim_413(scim.post("/Groups", json=group), "SCIM_MAX_BODY_GROUP", limit)


def test_other_scim_routes_have_a_small_cap(app, scim):
    limit = app.config["SCIM_MAX_BODY_OTHER"]
    body = {"schemas": [urns.SEARCH_REQUEST], "filter": 'userName eq "a"', "pad": "x" * limit}
    assert_scim_413(scim.post("/.search", json=body), "SCIM_MAX_BODY_OTHER", limit)
    assert_scim_413(scim.post("/NoSuchThing", json=body), "SCIM_MAX_BODY_OTHER", limit)


def test_the_413_comes_before_authentication(app, client, scim_headers):
    """No credentials, a huge declared body: 413, not 401, and no failure counts towards 429."""
    limit = app.config["SCIM_MAX_BODY_USER"]
    body = b"{" + b" " * limit + b"}"
    for _ in range(app.config["AUTH_FAILURE_LIMIT"] + 3):
        response = client.post("/scim/v2/Users", data=body, headers=SCIM_JSON)
        assert_scim_413(response, "SCIM_MAX_BODY_USER", limit)
    ok = client.get("/scim/v2/Users", headers=scim_headers)
    assert ok.status_code == 200  # the address was never throttled


def test_the_global_ceiling_still_applies_below_a_route_cap(app, scim):
    ceiling = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = scim.post("/Users", json=padded_user(2000))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = ceiling
    assert_scim_413(response, "MAX_CONTENT_LENGTH", 1000)


def test_sign_in_form_and_saml_response_have_small_caps(app, client):
    web = app.config["MAX_BODY_WEB"]
    saml = app.config["MAX_BODY_SAML"]
    assert web <= 64 * 1024 and saml < 1024 * 1024
    response = client.post("/login", data=b"username=a&password=" + b"x" * web, headers=FORM)
    assert response.status_code == 413
    assert f"at most {web} bytes (MAX_BODY_WEB)" in response.get_data(as_text=True)
    response = client.post("/saml/acs", data=b"SAMLResponse=" + b"x" * saml, headers=FORM)
    assert response.status_code == 413
    assert f"at most {saml} bytes (MAX_BODY_SAML)" in response.get_data(as_text=True)
    assert client.post("/login", data=b"username=a&password=b", headers=FORM).status_code != 413


def test_a_chunked_body_without_length_is_cut_off_at_the_cap(app, scim, scim_headers):
    """No Content-Length (the WSGI server de-chunked it): read through the cap, then 413."""
    limit = app.config["SCIM_MAX_BODY_USER"]
    stream = io.BytesIO(b'{"userName": "' + b"x" * (limit * 4) + b'"}')
    builder = EnvironBuilder(
        path="/scim/v2/Users",
        method="POST",
        input_stream=stream,
        headers={**scim_headers, **SCIM_JSON},
        environ_overrides={"wsgi.input_terminated": True},
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]  # as a server passes a chunked body
    response = scim.client.open(environ)
    assert_scim_413(response, "SCIM_MAX_BODY_USER", limit)
    exact = io.BytesIO(json.dumps(padded_user(limit // 2)).encode())
    builder = EnvironBuilder(
        path="/scim/v2/Users",
        method="POST",
        input_stream=exact,
        headers={**scim_headers, **SCIM_JSON},
        environ_overrides={"wsgi.input_terminated": True},
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    assert scim.client.open(environ).status_code == 201


def test_a_streamed_body_is_read_one_byte_past_the_cap_and_no_further():
    source = io.BytesIO(b"x" * 100_000)
    capped = CappedInput(source, 1000, lambda: PayloadTooLarge("too large"))
    with pytest.raises(PayloadTooLarge):
        capped.read()
    assert source.tell() == 1001
    exact = CappedInput(io.BytesIO(b"y" * 1000), 1000, lambda: PayloadTooLarge("too large"))
    assert exact.read() == b"y" * 1000  # exactly the cap is accepted


def test_service_provider_config_and_openapi_advertise_the_caps(app, scim):
    """bulk.maxPayloadSize (no bulk here) states the largest SCIM body; OpenAPI the value caps."""
    body = scim.get("/ServiceProviderConfig").get_json()
    assert body["schemas"] == [urns.SERVICE_PROVIDER_CONFIG]  # strict validators refuse extensions
    assert body["bulk"] == {
        "supported": False,
        "maxOperations": 0,
        "maxPayloadSize": app.config["SCIM_MAX_BODY_GROUP"],
    }
    document = scim.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert schemas["UserRequest"]["properties"]["emails"]["maxItems"] == app.config["SCIM_MAX_MULTI_VALUES"]
    members = schemas["GroupRequest"]["properties"]["members"]["maxItems"]
    assert members == app.config["SCIM_MAX_MEMBERS_PER_REQUEST"]
    app.config["SCIM_MAX_BODY_GROUP"] = 5000
    try:
        body = scim.get("/ServiceProviderConfig").get_json()
    finally:
        app.config["SCIM_MAX_BODY_GROUP"] = 16 * 1024 * 1024
    assert body["bulk"]["maxPayloadSize"] == app.config["SCIM_MAX_BODY_USER"]


# --- caps on values ------------------------------------------------------------------------


def test_too_many_values_of_a_multi_valued_user_attribute_are_400(app, scim):
    limit = app.config["SCIM_MAX_MULTI_VALUES"]
    assert 10 <= limit <= 500
    emails = [{"value": f"u{i}@example.com", "type": "work"} for i in range(limit + 1)]
    response = scim.post("/Users", json={"schemas": [urns.USER], "userName": "many", "emails": emails})
    assert_error_detail(response, "'emails' has", f"at most {limit} (SCIM_MAX_MULTI_VALUES)")
    phones = [{"value": str(i)} for i in range(limit + 1)]
    response = scim.post("/Users", json={"schemas": [urns.USER], "userName": "many", "phoneNumbers": phones})
    assert_error_detail(response, "'phoneNumbers' has", f"at most {limit}")
    ext = {urns.ENTERPRISE_USER: {"costCenters": ["c"] * (limit + 1)}}
    response = scim.post("/Users", json={"schemas": [urns.USER], "userName": "many", **ext})
    assert_error_detail(response, "'costCenters' has", f"at most {limit}")
    assert scim.get("/Users").get_json()["totalResults"] == 0
    ok = scim.post("/Users", json={"schemas": [urns.USER], "userName": "many", "emails": emails[:limit]})
    assert ok.status_code == 201, ok.get_json()
    patch = {
        "schemas": [urns.PATCH_OP],
        "Operations": [
            {"op": "add", "path": "emails", "value": emails[: limit // 2 + 1]},
            {"op": "add", "path": "emails", "value": emails[limit // 2 :]},
        ],
    }
    response = scim.patch(f"/Users/{ok.get_json()['id']}", json=patch)
    assert_error_detail(response, "'emails' has", f"at most {limit}")


def test_group_members_per_request_are_capped(app, scim):
    users = [
        scim.post("/Users", json={"schemas": [urns.USER], "userName": f"m{i}"}).get_json()["id"]
        for i in range(4)
    ]
    members = [{"value": u} for u in users]
    app.config["SCIM_MAX_MEMBERS_PER_REQUEST"] = 3
    try:
        response = scim.post(
            "/Groups", json={"schemas": [urns.GROUP], "displayName": "g", "members": members}
        )
        assert_error_detail(response, "'members' has 4 values", "at most 3 (SCIM_MAX_MEMBERS_PER_REQUEST)")
        group = scim.post(
            "/Groups", json={"schemas": [urns.GROUP], "displayName": "g", "members": members[:3]}
        ).get_json()
        response = scim.put(
            f"/Groups/{group['id']}", json={"schemas": [urns.GROUP], "displayName": "g", "members": members}
        )
        assert_error_detail(response, "'members' has 4 values", "at most 3")
        two_ops = {
            "schemas": [urns.PATCH_OP],
            "Operations": [
                {"op": "remove", "path": "members", "value": members[:2]},
                {"op": "add", "path": "members", "value": members[2:]},
            ],
        }
        response = scim.patch(f"/Groups/{group['id']}", json=two_ops)
        assert_error_detail(response, "'members' has 4 values", "at most 3")
        group_now = scim.get(f"/Groups/{group['id']}").get_json()
        assert sorted(m["value"] for m in group_now["members"]) == sorted(users[:3])
    finally:
        app.config["SCIM_MAX_MEMBERS_PER_REQUEST"] = 100_000


def test_patch_operations_are_capped(app, scim):
    user = scim.post("/Users", json={"schemas": [urns.USER], "userName": "ops"}).get_json()
    limit = app.config["SCIM_MAX_PATCH_OPERATIONS"]
    ops = [{"op": "replace", "path": "displayName", "value": f"n{i}"} for i in range(limit + 1)]
    response = scim.patch(f"/Users/{user['id']}", json={"schemas": [urns.PATCH_OP], "Operations": ops})
    assert_error_detail(
        response, f"has {limit + 1} operations", f"at most {limit} (SCIM_MAX_PATCH_OPERATIONS)"
    )
    ok = scim.patch(f"/Users/{user['id']}", json={"schemas": [urns.PATCH_OP], "Operations": ops[:limit]})
    assert ok.status_code == 200


def assert_error_detail(response, *parts: str) -> None:
    body = response.get_json()
    assert response.status_code == 400, body
    assert body["status"] == "400" and body["scimType"] == "invalidValue", body
    for part in parts:
        assert part in body["detail"], body["detail"]


# --- against a real server over a socket ---------------------------------------------------


def test_a_declared_huge_body_is_answered_without_being_sent(app, scim_headers):
    """Headers claim 1 GiB, two bytes follow: the server answers 413 at once (a server that
    waited for the body would never answer before the read guard gives up)."""
    with live_server(app) as url:
        response = claim_length(url, "POST", "/scim/v2/Users", {**scim_headers, **SCIM_JSON}, GIB)
        assert_scim_413(response, "SCIM_MAX_BODY_USER", app.config["SCIM_MAX_BODY_USER"])
        anonymous = claim_length(url, "POST", "/scim/v2/Groups", SCIM_JSON, GIB)
        assert_scim_413(anonymous, "SCIM_MAX_BODY_GROUP", app.config["SCIM_MAX_BODY_GROUP"])
        assert claim_length(url, "POST", "/login", FORM, GIB, b"username=").status == 413
        assert claim_length(url, "POST", "/saml/acs", FORM, GIB, b"SAMLResponse=").status == 413


def test_a_chunked_body_over_the_cap_is_cut_off_over_a_socket(app, scim_headers):
    """Chunks past the cap and no final chunk: the answer is 413, so the server stopped reading."""
    limit = app.config["SCIM_MAX_BODY_USER"]
    with live_server(app) as url:
        headers = {**scim_headers, **SCIM_JSON}
        response = chunked_upload(url, "POST", "/scim/v2/Users", headers, limit + 16 * 1024)
        assert_scim_413(response, "SCIM_MAX_BODY_USER", limit)
        login = chunked_upload(url, "POST", "/login", FORM, app.config["MAX_BODY_WEB"] + 16 * 1024)
        assert login.status == 413


@pytest.mark.slow
def test_gunicorn_worker_memory_stays_flat_under_huge_bodies(database_url: str, tmp_path: Path):
    """The issue's attack: 26 MB anonymous form POSTs to /login took a worker to 1.3 GB. Now the
    worker answers 413 from the headers and its resident memory barely moves."""
    with fresh_database(database_url, tmp_path) as url, gunicorn(url, tmp_path, workers=1) as server:
        for step in (("saml", "configure", "--idp-metadata", str(DATA_DIR / "idp-metadata.xml")),):
            assert server.cli(*step).returncode == 0
        (worker,) = worker_pids(server.process.pid)
        assert claim_length(server.url, "POST", "/login", FORM, GIB, b"username=").status == 413
        before = rss_bytes(worker)
        body_size = 26 * 1024 * 1024
        for path in ("/login", "/saml/acs", "/scim/v2/Users", "/scim/v2/Groups"):
            for _ in range(3):
                send_whole(server.url, "POST", path, FORM, body_size)
        assert chunked_upload(server.url, "POST", "/login", FORM, 256 * 1024).status == 413
        assert worker_pids(server.process.pid) == [worker]  # the same worker served them all
        growth = rss_bytes(worker) - before
        assert growth < 8 * 1024 * 1024, f"worker RSS grew by {growth} bytes"
