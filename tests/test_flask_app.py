"""The application class: ``ensure_sync`` remembers plain functions, and only those."""

from __future__ import annotations

import re

import flask
import pytest

from scimgate import ScimgateFlask


def test_the_app_is_a_scimgate_flask(app):
    assert isinstance(app, ScimgateFlask)


def test_plain_functions_are_returned_as_they_are_and_remembered(app):
    def plain() -> str:
        return "ok"

    assert app.ensure_sync(plain) is plain
    assert plain in app._plain_functions
    assert app.ensure_sync(plain) is plain


def test_an_unhashable_callable_is_still_handled():
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self) -> str:
            return "ok"

    app = ScimgateFlask(__name__)
    target = Unhashable()
    assert app.ensure_sync(target) is target


def test_coroutine_functions_get_flasks_own_treatment_every_time():
    async def coroutine() -> str:
        return "ok"

    ours, flasks = ScimgateFlask(__name__), flask.Flask(__name__)
    try:
        expected = flasks.ensure_sync(coroutine)
    except RuntimeError as error:  # Flask without its "async" extra refuses the same way
        with pytest.raises(RuntimeError, match=re.escape(str(error))):
            ours.ensure_sync(coroutine)
    else:
        assert type(ours.ensure_sync(coroutine)) is type(expected)
    assert coroutine not in ours._plain_functions


def test_the_production_entry_point_freezes_its_start_up_objects(tmp_path):
    """wsgi.py moves what start-up built out of the collector's full passes (gc.freeze)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMGATE_")}
    env.update(
        {
            "SCIMGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'scimgate.db'}",
            "SCIMGATE_LOG_DIR": str(tmp_path / "logs"),
            "PYTHONPATH": str(root),
        }
    )
    probe = "import gc, wsgi; print(gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().splitlines()[-1]) > 50_000
