"""``scimgate admin create``, the cleanup's admin guard and ``scimgate saml username-attribute``."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from scimgate import cli
from scimgate.accounts import users
from scimgate.extensions import db
from scimgate.signin import saml_sp
from tests.support.config import add_pushed_user
from tests.support.signin import ADMIN_PASSWORD, add_admin, configure_dev_saml, password_sign_in


def run(runner: FlaskCliRunner, *args: str, input: str | None = None):
    return runner.invoke(cli.main, list(args), input=input)


def test_admin_create_from_stdin_then_sign_in(
    runner: FlaskCliRunner, app: Flask, client: FlaskClient
) -> None:
    result = run(runner, "admin", "create", "root", "--password-stdin", input=ADMIN_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert ADMIN_PASSWORD not in result.output
    with app.app_context():
        user = users.find_by_username("root")
        assert user.is_builtin and user.role == "server_admin"
        assert user.password_hash.startswith("$argon2id$")
    assert password_sign_in(client, "root").status_code == 302
    assert client.get("/api/v1/session").get_json()["user"]["kind"] == "builtin"


def test_admin_create_prompts_twice(runner: FlaskCliRunner, app: Flask) -> None:
    answers = f"{ADMIN_PASSWORD}\nother\n{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n"
    mismatch = run(runner, "admin", "create", "root", input=answers)
    assert mismatch.exit_code == 0, mismatch.output
    assert "do not match" in mismatch.output
    with app.app_context():
        assert users.check_password("root", ADMIN_PASSWORD) is not None


def test_admin_create_refusals(runner: FlaskCliRunner, app: Flask) -> None:
    weak = run(runner, "admin", "create", "root", "--password-stdin", input="short\n")
    assert weak.exit_code == 1 and "password refused" in weak.output
    assert (
        run(runner, "admin", "create", "root", "--password-stdin", input=ADMIN_PASSWORD + "\n").exit_code == 0
    )
    again = run(runner, "admin", "create", "root", "--password-stdin", input=ADMIN_PASSWORD + "\n")
    assert again.exit_code == 1 and "already exists" in again.output
    assert run(runner, "admin", "create", "root", "--password-stdin", input="").exit_code == 1


def test_cleanup_needs_an_active_builtin_server_admin(runner: FlaskCliRunner, app: Flask) -> None:
    with app.app_context():
        add_pushed_user("pushed.admin").role = "server_admin"  # an IdP-pushed admin does not count
        db.session.commit()
    refused = run(runner, "scim", "cleanup", "--yes")
    assert refused.exit_code == 1
    assert "no active built-in Server Admin exists" in refused.output and "--force" in refused.output
    with app.app_context():
        assert users.find_by_username("pushed.admin").scim is not None  # nothing changed
    assert run(runner, "scim", "cleanup", "--dry-run").exit_code == 0
    with app.app_context():
        admin = add_admin()
        admin.profile.is_suspended = True  # a suspended admin does not count
        db.session.commit()
    assert run(runner, "scim", "cleanup", "--yes").exit_code == 1
    with app.app_context():
        users.activate(users.find_by_username("admin"))
    done = run(runner, "scim", "cleanup", "--yes")
    assert done.exit_code == 0, done.output


def test_cleanup_force_runs_without_a_builtin_admin(runner: FlaskCliRunner, app: Flask) -> None:
    with app.app_context():
        add_pushed_user("someone")
    assert run(runner, "scim", "cleanup", "--yes", "--force").exit_code == 0


def test_username_attribute_command(runner: FlaskCliRunner, app: Flask) -> None:
    configure_dev_saml(app)
    assert run(runner, "saml", "username-attribute", "uid").exit_code == 0
    with app.app_context():
        assert saml_sp.conf_store.get_str(saml_sp.USERNAME_ATTRIBUTE_KEY) == "uid"
    assert run(runner, "saml", "username-attribute", "--nameid").exit_code == 0
    with app.app_context():
        assert saml_sp.conf_store.get_str(saml_sp.USERNAME_ATTRIBUTE_KEY) is None
    assert run(runner, "saml", "username-attribute").exit_code == 1


def test_admin_password_follows_the_references_rule(runner: FlaskCliRunner, app: Flask) -> None:
    """Letters and one special character are enough; 16 characters or no special are refused."""
    sixteen = run(runner, "admin", "create", "a1", "--password-stdin", input="abcdefghijklmno!\n")
    assert sixteen.exit_code == 1 and "it has 16 characters" in sixteen.output
    no_special = run(runner, "admin", "create", "a2", "--password-stdin", input="abcdefghijklmnopqr\n")
    assert no_special.exit_code == 1 and "no special character" in no_special.output
    only_specials = run(runner, "admin", "create", "a3", "--password-stdin", input="!@#$%^&*()_+-=[]{}\n")
    assert only_specials.exit_code == 1 and "no letter or digit" in only_specials.output
    ok = run(runner, "admin", "create", "a4", "--password-stdin", input="abcdefghijklmnopq!\n")
    assert ok.exit_code == 0, ok.output
    with app.app_context():
        assert users.check_password("a4", "abcdefghijklmnopq!") is not None
