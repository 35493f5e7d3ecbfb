"""Driving the ``scimgate`` command group in tests: invoke, check a one-line error, set up by commands."""

from __future__ import annotations

from click.testing import Result
from flask.testing import FlaskCliRunner

from scimgate import cli
from tests.support.config import DATA_DIR, PASSWORD, USERNAME

METADATA_FILE = str(DATA_DIR / "idp-metadata.xml")


def run(runner: FlaskCliRunner, *args: str, input: str | None = None) -> Result:
    """Invoke the real ``scimgate`` group against the testing app."""
    return runner.invoke(cli.main, list(args), input=input)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def setup_through_commands(runner: FlaskCliRunner) -> str:
    """The reference's set-up order, commands only; return the token."""
    assert (
        run(runner, "saml", "configure", "--idp-metadata", METADATA_FILE, "--base-url", "http://x").exit_code
        == 0
    )
    assert run(runner, "saml", "enable").exit_code == 0
    assert run(runner, "scim", "set-client", "okta").exit_code == 0
    result = run(
        runner, "scim", "set-basic-auth", "--username", USERNAME, "--password-stdin", input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    result = run(runner, "scim", "generate-token", "--months", "3")
    assert result.exit_code == 0, result.output
    token = result.output.rstrip("\n").splitlines()[-1]
    assert run(runner, "scim", "enable").exit_code == 0
    return token
