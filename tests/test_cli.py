"""The ``scimgate`` commands: exit codes, one-line errors, secrets never in argv or output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from scimgate import configuration_utils as cu
from scimgate.extensions import db
from scimgate.models import DirectoryGroup, GroupMembership, ScimGroup, ScimUser, UserProfile
from tests.support.cli import METADATA_FILE, assert_one_line_error, run, setup_through_commands
from tests.support.config import (
    PASSWORD,
    SPC,
    USERNAME,
    add_group,
    add_local_user,
    add_pushed_user,
    basic_header,
    bearer_header,
)


def test_clean_setup_then_both_credentials_work(runner: FlaskCliRunner, client: FlaskClient) -> None:
    token = setup_through_commands(runner)
    assert client.get(SPC, headers=bearer_header(token)).status_code == 200
    assert client.get(SPC, headers=basic_header(USERNAME, PASSWORD)).status_code == 200
    status = run(runner, "scim", "status")
    assert status.exit_code == 0
    assert "client:          okta" in status.output
    assert "sync:            enabled" in status.output
    assert f"basic username:  {USERNAME}" in status.output
    assert "basic password:  <set>" in status.output
    assert ", valid until " in status.output and "EXPIRE" not in status.output
    assert "saml:            configured, enabled" in status.output
    assert token not in status.output and PASSWORD not in status.output


def test_token_is_alone_on_the_last_line(runner: FlaskCliRunner) -> None:
    result = run(runner, "scim", "generate-token", "--months", "1")
    assert result.exit_code == 0
    last = result.output.rstrip("\n").splitlines()[-1]
    assert last.startswith("scimgate_") and " " not in last


@pytest.mark.parametrize("months", ["0", "7", "-1"])
def test_generate_token_refuses_bad_months(runner: FlaskCliRunner, months: str) -> None:
    assert_one_line_error(run(runner, "scim", "generate-token", "--months", months), "1 to 6 months")


def test_set_client_unknown_lists_valid_clients(runner: FlaskCliRunner) -> None:
    result = run(runner, "scim", "set-client", "ping")
    assert_one_line_error(result, "unknown SCIM client 'ping'", "okta", "azure_active_directory", "sailpoint")


def test_weak_password_changes_nothing(runner: FlaskCliRunner, app: Flask) -> None:
    result = run(
        runner, "scim", "set-basic-auth", "--username", USERNAME, "--password-stdin", input="short1&\n"
    )
    assert_one_line_error(result, "password refused", "longer than 16 characters")
    assert "short1&" not in result.output
    with app.app_context():
        assert cu.get_scim_basic_auth_info() == {
            "username": None,
            "password_set": False,
            "password_set_at": None,
        }


def test_password_prompt_asks_twice(runner: FlaskCliRunner, app: Flask) -> None:
    result = run(runner, "scim", "set-basic-auth", "--username", USERNAME, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with app.app_context():
        assert cu.get_scim_basic_auth_info()["password_set"]


def test_password_prompt_mismatch_is_asked_again(runner: FlaskCliRunner, app: Flask) -> None:
    result = run(
        runner,
        "scim",
        "set-basic-auth",
        "--username",
        USERNAME,
        input=f"{PASSWORD}\nother\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output


def test_password_is_not_an_option(runner: FlaskCliRunner) -> None:
    result = run(runner, "scim", "set-basic-auth", "--username", USERNAME, "--password", PASSWORD)
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_enable_lists_everything_missing(runner: FlaskCliRunner) -> None:
    result = run(runner, "scim", "enable")
    assert_one_line_error(result, "cannot enable SCIM sync", "SAML is not configured", "no SCIM credential")
    assert "client" not in result.output  # okta is the default client


def test_disable_and_status(runner: FlaskCliRunner) -> None:
    setup_through_commands(runner)
    result = run(runner, "scim", "disable")
    assert result.exit_code == 0
    assert "kept" in result.output
    assert "sync:            disabled" in run(runner, "scim", "status").output


def test_status_of_an_empty_configuration(runner: FlaskCliRunner) -> None:
    result = run(runner, "scim", "status")
    assert result.exit_code == 0
    assert "client:          okta (default, not set)" in result.output
    assert "bearer token:    <not set>" in result.output
    assert "saml:            not configured, disabled" in result.output


def test_conf_lists_keys_and_hides_secrets(runner: FlaskCliRunner) -> None:
    token = setup_through_commands(runner)
    result = run(runner, "conf")
    assert result.exit_code == 0
    assert "scim.client" in result.output and "'okta'" in result.output
    assert "scim.basic_auth.password_hash" in result.output
    assert "$argon2" not in result.output
    assert token not in result.output and PASSWORD not in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert "<set> (set " in lines["scim.token.hash"]
    assert "<set> (set " in lines["scim.token.pepper"]
    assert "bytes>" in lines["saml.idp_metadata"]
    one = run(runner, "conf", "scim.sync_enabled")
    assert one.exit_code == 0 and one.output.strip() == "True"
    assert run(runner, "conf", "scim.token.hash").output.startswith("<set>")


def test_conf_unknown_key(runner: FlaskCliRunner) -> None:
    assert_one_line_error(run(runner, "conf", "scim.nope"), "unknown configuration key", "scim.client")


def test_saml_configure_errors(runner: FlaskCliRunner, tmp_path: Path) -> None:
    assert_one_line_error(
        run(runner, "saml", "configure", "--idp-metadata", str(tmp_path / "missing.xml")), "cannot read"
    )
    bad = tmp_path / "bad.xml"
    bad.write_text("<EntityDescriptor/>")
    assert_one_line_error(
        run(runner, "saml", "configure", "--idp-metadata", str(bad)), "no identity provider"
    )
    assert_one_line_error(run(runner, "saml", "enable"), "scimgate saml configure")


def test_saml_commands(runner: FlaskCliRunner) -> None:
    result = run(
        runner, "saml", "configure", "--idp-metadata", METADATA_FILE, "--sp-entity-id", "https://sp/md"
    )
    assert result.exit_code == 0
    assert "https://idp.scimgate.test/saml2/idp/metadata" in result.output
    assert run(runner, "saml", "enable").exit_code == 0
    status = run(runner, "saml", "status").output
    assert "enabled:        True" in status
    assert "sp_entity_id:   https://sp/md" in status
    assert run(runner, "saml", "disable").exit_code == 0
    assert "enabled:        False" in run(runner, "saml", "status").output


def _pushed_world(app: Flask) -> dict[str, int]:
    with app.app_context():
        alice = add_pushed_user("alice")
        bob = add_pushed_user("bob")
        carol = add_local_user("carol")
        add_group("engineers", [alice, bob, carol])
        local = add_group("local-admins", [carol, alice], client=None)
        return {"alice": alice.id, "bob": bob.id, "carol": carol.id, "local": local.id}


def _counts() -> tuple[int, int, int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(ScimUser)),
        db.session.scalar(sa.select(sa.func.count()).select_from(ScimGroup)),
        db.session.scalar(sa.select(sa.func.count()).select_from(DirectoryGroup)),
        db.session.scalar(sa.select(sa.func.count()).select_from(GroupMembership)),
    )


def test_cleanup_dry_run_changes_nothing(runner: FlaskCliRunner, app: Flask) -> None:
    _pushed_world(app)
    result = run(runner, "scim", "cleanup", "--dry-run")
    assert result.exit_code == 0
    assert "users to suspend: 2, groups to delete: 1, memberships to delete: 3" in result.output
    assert "dry run: nothing changed" in result.output
    with app.app_context():
        assert _counts() == (2, 1, 2, 5)


def test_cleanup_asks_for_confirmation(runner: FlaskCliRunner, app: Flask) -> None:
    _pushed_world(app)
    result = run(runner, "scim", "cleanup", "--force", input="n\n")  # no built-in admin here
    assert result.exit_code == 1
    assert "cleanup cancelled; nothing changed" in result.output
    with app.app_context():
        assert _counts() == (2, 1, 2, 5)


def test_cleanup_suspends_users_deletes_scim_groups_and_links(runner: FlaskCliRunner, app: Flask) -> None:
    ids = _pushed_world(app)
    result = run(runner, "scim", "cleanup", "--force", input="y\n")
    assert result.exit_code == 0, result.output
    assert (
        "cleanup done: 2 users suspended, 1 groups deleted, 3 memberships deleted, 3 SCIM links removed"
        in (result.output)
    )
    with app.app_context():
        assert _counts() == (0, 0, 1, 2)  # the local group and its two memberships stay
        assert db.session.get(UserProfile, ids["alice"]).is_suspended
        assert db.session.get(UserProfile, ids["bob"]).is_suspended
        assert not db.session.get(UserProfile, ids["carol"]).is_suspended
        assert db.session.get(DirectoryGroup, ids["local"]) is not None


def test_dev_bootstrap_is_refused_outside_development(runner: FlaskCliRunner, app: Flask) -> None:
    app.config["DEV_IDP_ENABLED"] = False
    try:
        assert_one_line_error(run(runner, "dev", "bootstrap"), "only allowed with DEV_IDP_ENABLED")
    finally:
        app.config["DEV_IDP_ENABLED"] = True
    with app.app_context():
        assert not cu.check_if_scim_sync_is_enabled()


def test_dev_bootstrap_prints_a_working_token(runner: FlaskCliRunner, client: FlaskClient) -> None:
    result = run(runner, "dev", "bootstrap")
    assert result.exit_code == 0, result.output
    assert "SCIM base URL: http://localhost:5000/scim/v2" in result.output
    token = result.output.rstrip("\n").splitlines()[-1]
    assert client.get(SPC, headers=bearer_header(token)).status_code == 200


def test_shell_preimports_the_reference_functions(app: Flask) -> None:
    """create_app registers the shell's names on every app (``scimgate.cli.shell``)."""
    with app.app_context():
        context = app.make_shell_context()
    for name in (
        "update_scim_client",
        "get_scim_client",
        "set_scim_basic_auth_username",
        "set_scim_basic_auth_password",
        "get_scim_basic_auth_info",
        "get_scim_bearer_token",
        "enable_scim_user_and_group_sync",
        "check_if_scim_sync_is_enabled",
        "disable_sync_from_directory_provider",
        "generate_scim_bearer_token",
    ):
        assert context[name] is getattr(cu, name)
    assert "configure_saml" in context


def _console(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the installed ``scimgate`` console script in a fresh process on a fresh SQLite file."""
    env = {
        **os.environ,
        "SCIMGATE_CONFIG": "testing",
        "SCIMGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SCIMGATE_LOG_DIR": str(tmp_path / "logs"),
    }
    env.pop("SCIMGATE_TEST_DATABASE_URL", None)
    script = Path(sys.executable).parent / "scimgate"
    return subprocess.run(
        [str(script), *args], input=stdin, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def test_console_script_init_db_then_commands(tmp_path: Path) -> None:
    first = _console(tmp_path, "init-db")
    assert first.returncode == 0, first.stderr
    assert "latest schema version" in first.stdout
    assert _console(tmp_path, "init-db").returncode == 0  # idempotent
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        assert {"alembic_version", "scimgate_conf", "auth_user", "scim_user", "scim_group"} <= tables
    engine.dispose()
    refused = _console(tmp_path, "scim", "set-client", "nope")
    assert refused.returncode == 1
    assert refused.stderr.strip().startswith("Error: unknown SCIM client 'nope'")
    assert len(refused.stderr.strip().splitlines()) == 1
    status = _console(tmp_path, "scim", "status")
    assert status.returncode == 0 and "sync:            disabled" in status.stdout


def test_enable_without_set_client_uses_okta(runner: FlaskCliRunner, client: FlaskClient) -> None:
    """The reference's default client: `scim enable` needs no `scim set-client`."""
    assert (
        run(runner, "saml", "configure", "--idp-metadata", METADATA_FILE, "--base-url", "http://x").exit_code
        == 0
    )
    assert run(runner, "saml", "enable").exit_code == 0
    token = run(runner, "scim", "generate-token", "--months", "1").output.rstrip("\n").splitlines()[-1]
    enabled = run(runner, "scim", "enable")
    assert enabled.exit_code == 0, enabled.output
    status = run(runner, "scim", "status").output
    assert "client:          okta (default, not set)" in status
    assert "authentication:  OK (bearer)" in status
    assert client.get(SPC, headers=bearer_header(token)).status_code == 200


def test_entra_with_basic_only_cannot_be_enabled(runner: FlaskCliRunner, client: FlaskClient) -> None:
    """Entra ID accepts only a bearer token: enable names it, status never says OK."""
    assert (
        run(runner, "saml", "configure", "--idp-metadata", METADATA_FILE, "--base-url", "http://x").exit_code
        == 0
    )
    assert run(runner, "saml", "enable").exit_code == 0
    assert run(runner, "scim", "set-client", "azure_active_directory").exit_code == 0
    result = run(
        runner, "scim", "set-basic-auth", "--username", USERNAME, "--password-stdin", input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    refused = run(runner, "scim", "enable")
    assert_one_line_error(refused, "azure_active_directory accepts only a bearer token", "generate-token")
    status = run(runner, "scim", "status").output
    assert "sync:            disabled" in status
    assert "(not accepted by azure_active_directory)" in status
    assert "authentication:  NOT READY: the SCIM client azure_active_directory accepts only" in status
    assert "OK" not in status
    token = run(runner, "scim", "generate-token", "--months", "1").output.rstrip("\n").splitlines()[-1]
    assert run(runner, "scim", "enable").exit_code == 0
    assert "authentication:  OK (bearer)" in run(runner, "scim", "status").output
    assert client.get(SPC, headers=bearer_header(token)).status_code == 200
    assert client.get(SPC, headers=basic_header(USERNAME, PASSWORD)).status_code == 401
