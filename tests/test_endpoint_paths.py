"""Endpoint names in any case and a trailing slash are served directly (no redirect), as
Microsoft's SCIM reference server and the python-scim peer do; ids stay case-sensitive and every
link scimgate writes stays canonical."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from flask.testing import FlaskClient

from scimgate.scim import urns
from tests.support.scim import ScimClient

BASE = "http://localhost/scim/v2"


def test_users_in_any_case_and_with_a_trailing_slash(scim: ScimClient) -> None:
    created = scim.post("/scim/v2/users", json={"schemas": [urns.USER], "userName": "bjensen"})
    assert created.status_code == 201, created.get_json()
    user_id = created.get_json()["id"]
    assert created.headers["Location"] == f"{BASE}/Users/{user_id}"
    assert created.get_json()["meta"]["location"] == f"{BASE}/Users/{user_id}"
    for path in ("/scim/v2/users", "/scim/v2/USERS/", "/scim/v2/Users/", "/scim/v2/uSeRs"):
        listed = scim.get(path)
        assert listed.status_code == 200, path
        assert listed.get_json()["totalResults"] == 1
        assert listed.get_json()["Resources"][0]["meta"]["location"] == f"{BASE}/Users/{user_id}"
    for path in (f"/scim/v2/users/{user_id}", f"/scim/v2/Users/{user_id}/", f"/scim/v2/USERS/{user_id}/"):
        got = scim.get(path)
        assert got.status_code == 200, path
        assert got.get_json()["meta"]["location"] == f"{BASE}/Users/{user_id}"
    patched = scim.patch(
        f"/scim/v2/users/{user_id}/",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Babs"}],
        },
    )
    assert patched.status_code == 200
    searched = scim.post("/scim/v2/users/.search", json={"filter": 'userName eq "bjensen"'})
    assert searched.status_code == 200 and searched.get_json()["totalResults"] == 1
    assert (
        scim.post("/scim/v2/Users/", json={"schemas": [urns.USER], "userName": "second"}).status_code == 201
    )  # no 308 on POST
    assert scim.delete(f"/scim/v2/users/{user_id}/").status_code == 204


def test_the_id_stays_case_sensitive(scim: ScimClient) -> None:
    user_id = scim.post("/Users", json={"schemas": [urns.USER], "userName": "casey"}).get_json()["id"]
    assert user_id != user_id.upper()
    assert scim.get(f"/Users/{user_id.upper()}").status_code == 404
    assert scim.get(f"/Users/{user_id}").status_code == 200


def test_groups_and_discovery_in_any_case(scim: ScimClient) -> None:
    created = scim.post("/scim/v2/GROUPS/", json={"schemas": [urns.GROUP], "displayName": "Admins"})
    assert created.status_code == 201
    assert created.headers["Location"].startswith(f"{BASE}/Groups/")
    assert scim.get("/scim/v2/groups").get_json()["totalResults"] == 1
    for path in (
        "/scim/v2/serviceproviderconfig",
        "/scim/v2/ServiceProviderConfig/",
        "/scim/v2/SCHEMAS/",
        "/scim/v2/resourcetypes",
        "/scim/v2/ResourceTypes/User/",
    ):
        response = scim.get(path)
        assert response.status_code == 200, path
    config = scim.get("/scim/v2/serviceproviderconfig").get_json()
    assert config["meta"]["location"] == f"{BASE}/ServiceProviderConfig"


def test_other_paths_are_still_refused(scim: ScimClient, client: FlaskClient) -> None:
    assert client.get("/scim/v2/users").status_code == 401  # still authenticated first
    assert scim.get("/scim/v2/Nowhere/").status_code == 404
    assert scim.get("/scim/v2/Users//").status_code == 404
    assert scim.client.put("/scim/v2/serviceproviderconfig/", headers=scim.headers).status_code == 405


def test_every_scim_url_is_written_out_where_its_view_is_registered(app) -> None:
    """Searching the source for a URL finds its view: each ``/scim/v2`` rule appears literally,
    quoted, in the ``add_url_rule`` of the one module of ``scimgate/api`` that registers it, and
    every method it serves is a method of that module's view (``PATCH /Groups/<id>`` is
    ``GroupView.patch`` beside ``"/Groups/<resource_id>"``)."""

    api_dir = Path(__file__).resolve().parent.parent / "scimgate" / "api"
    sources = {path.name: path.read_text() for path in api_dir.glob("*.py")}
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/scim/v2/")]
    assert {"/scim/v2/Users/<resource_id>", "/scim/v2/Groups/<resource_id>"} <= {r.rule for r in rules}
    for rule in rules:
        url = rule.rule.removeprefix("/scim/v2")
        registered = re.compile(r"add_url_rule\(\s*" + re.escape(f'"{url}"'))
        holders = [name for name, text in sources.items() if registered.search(text)]
        assert len(holders) == 1, f"{url} is written in {holders or 'no module'} of scimgate/api"
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        if view_class is None:
            continue
        assert inspect.getsourcefile(view_class).endswith(holders[0])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert callable(getattr(view_class, method.lower(), None)), f"{method} {url}"
