"""The example third-party plugin's own test suite (``examples/scimgate-onelogin/tests``) passes.

It runs as a plugin author would run it: a separate ``pytest`` process in the plugin's directory,
with only what installing scimgate gives it (the ``scimgate_*`` fixtures and the replay runner of
``scimgate.testing``, loaded through the ``pytest11`` entry point; nothing from this suite).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.plugins import EXAMPLE, ensure_example_installed


def test_the_example_plugins_suite_passes_on_the_shipped_fixtures(tmp_path: Path) -> None:
    ensure_example_installed(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SCIMGATE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "4 passed" in output, output
