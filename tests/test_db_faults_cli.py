"""A ``scimgate`` command run while the database cannot be used exits 1 with one clear line on
stderr (what failed, in the database's words), never a traceback. Nothing listens on port 1 of
the loopback: the connection is refused at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scimgate.cli import main

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/none"


@pytest.mark.parametrize("args", [["scim", "status"], ["conf"], ["scim", "enable"]])
def test_a_command_against_an_unreachable_database_prints_one_line(tmp_path: Path, args: list[str]) -> None:
    env = {
        "SCIMGATE_CONFIG": "production",
        "SCIMGATE_DATABASE_URL": UNREACHABLE,
        "SCIMGATE_SECRET_KEY": "k" * 32,
        "SCIMGATE_LOG_DIR": str(tmp_path),
    }
    result = CliRunner(env=env).invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: database unavailable: connection failed"), lines
    assert "Connection refused" in lines[0]
