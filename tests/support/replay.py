"""The suite's IdP payload files (``tests/payloads/<idp>/<name>.json``) and the shipped runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scimgate.testing.replay import ABSENT, ANY, Replay, ReplayError, fill, run, subset_mismatch
from scimgate.testing.replay import load as load_file

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"

__all__ = ["ABSENT", "ANY", "PAYLOADS", "Replay", "ReplayError", "fill", "load", "run", "subset_mismatch"]


def load(idp: str, name: str) -> dict[str, Any]:
    """Read ``tests/payloads/<idp>/<name>.json``."""
    return load_file(PAYLOADS / idp / f"{name}.json")
