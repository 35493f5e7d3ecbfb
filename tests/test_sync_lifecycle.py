"""The sync lifecycle end to end: set-up by commands, SCIM traffic, disable, provider change.

This is the issue's "must show" transcript as a test: a clean set-up through the commands only,
SCIM calls with both credentials, a replaced token and a wrong password refused, disable → 403 with
the data kept, and a provider change that is refused until the cleanup ran.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from scimgate import configuration_utils as cu
from scimgate.extensions import db
from scimgate.models import ScimUser, User, UserProfile
from tests.support.cli import assert_one_line_error, run, setup_through_commands
from tests.support.config import (
    PASSWORD,
    USERNAME,
    add_local_user,
    basic_header,
    bearer_header,
    read_log,
    sibling_app,
)

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
SCIM_JSON = {"Content-Type": "application/scim+json"}


def _create_user(client: FlaskClient, headers: dict[str, str], user_name: str) -> str:
    response = client.post(
        "/scim/v2/Users",
        json={"schemas": [USER_SCHEMA], "userName": user_name, "active": True},
        headers={**headers, **SCIM_JSON},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def _create_group(client: FlaskClient, headers: dict[str, str], name: str, members: list[str]) -> str:
    response = client.post(
        "/scim/v2/Groups",
        json={"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members]},
        headers={**headers, **SCIM_JSON},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def test_transcript_setup_traffic_revocation_disable(
    runner: FlaskCliRunner, client: FlaskClient, app: Flask, log_dir: Path
) -> None:
    token = setup_through_commands(runner)
    bearer = bearer_header(token)
    basic = basic_header(USERNAME, PASSWORD)

    alice = _create_user(client, bearer, "alice@example.com")
    bob = _create_user(client, basic, "bob@example.com")
    _create_group(client, basic, "engineers", [alice, bob])
    listed = client.get("/scim/v2/Users", headers=basic)
    assert listed.status_code == 200 and listed.get_json()["totalResults"] == 2

    # a replaced token and a wrong password are refused
    new_token = run(runner, "scim", "generate-token", "--months", "1").output.rstrip("\n").splitlines()[-1]
    assert client.get("/scim/v2/Users", headers=bearer).status_code == 401
    assert client.get("/scim/v2/Users", headers=bearer_header(new_token)).status_code == 200
    assert client.get("/scim/v2/Users", headers=basic_header(USERNAME, "nope_" + PASSWORD)).status_code == 401

    # disable: every route answers 403, nothing is deleted
    assert run(runner, "scim", "disable").exit_code == 0
    for method, path in [
        ("GET", "/scim/v2/Users"),
        ("GET", f"/scim/v2/Users/{alice}"),
        ("DELETE", f"/scim/v2/Users/{alice}"),
    ]:
        response = client.open(path, method=method, headers=basic)
        assert response.status_code == 403
        assert "SCIM sync is disabled" in response.get_json()["detail"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScimUser)) == 2
        users = db.session.scalars(sa.select(User).order_by(User.username)).all()
        assert [u.username for u in users] == ["alice@example.com", "bob@example.com"]
        assert all(u.is_active for u in users)

    # enabling again serves the same data
    assert run(runner, "scim", "enable").exit_code == 0
    assert client.get(f"/scim/v2/Users/{alice}", headers=basic).status_code == 200

    info = read_log(log_dir, "scim-info.log")
    assert 'reason="revoked token (replaced by a newer token)"' in info
    assert 'reason="wrong password"' in info
    assert "sync.refused" in info


def test_change_is_seen_by_another_process_at_the_next_request(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path
) -> None:
    token = setup_through_commands(runner)
    other = sibling_app(app, tmp_path / "node2-logs").test_client()
    assert other.get("/scim/v2/Users", headers=bearer_header(token)).status_code == 200
    assert run(runner, "scim", "disable").exit_code == 0
    assert other.get("/scim/v2/Users", headers=bearer_header(token)).status_code == 403
    assert run(runner, "scim", "enable").exit_code == 0
    new_token = run(runner, "scim", "generate-token", "--months", "2").output.rstrip("\n").splitlines()[-1]
    assert other.get("/scim/v2/Users", headers=bearer_header(token)).status_code == 401
    assert other.get("/scim/v2/Users", headers=bearer_header(new_token)).status_code == 200


def test_provider_change_requires_cleanup(runner: FlaskCliRunner, client: FlaskClient, app: Flask) -> None:
    token = setup_through_commands(runner)
    headers = bearer_header(token)
    alice = _create_user(client, headers, "alice@example.com")
    _create_group(client, headers, "engineers", [alice])
    with app.app_context():
        local = add_local_user("local.admin").id

    refused = run(runner, "scim", "set-client", "azure_active_directory")
    assert_one_line_error(
        refused, "cannot switch the SCIM client", "1 user(s) and 1 group(s)", "scimgate scim cleanup"
    )

    assert run(runner, "scim", "disable").exit_code == 0
    dry = run(runner, "scim", "cleanup", "--dry-run")
    assert "users to suspend: 1, groups to delete: 1, memberships to delete: 1" in dry.output
    assert run(runner, "scim", "cleanup", "--yes", "--force").exit_code == 0  # no built-in admin
    assert run(runner, "scim", "set-client", "azure_active_directory").exit_code == 0
    with app.app_context():
        assert cu.get_scim_client() == "azure_active_directory"
        suspended = db.session.scalar(
            sa.select(UserProfile.is_suspended).join(User).where(User.username == "alice@example.com")
        )
        assert suspended is True
        assert db.session.get(UserProfile, local).is_suspended is False

    # the new provider starts from a clean slate: alice can be pushed again under its own link
    assert run(runner, "scim", "enable").exit_code == 0
    assert client.get("/scim/v2/Users", headers=headers).get_json()["totalResults"] == 0
