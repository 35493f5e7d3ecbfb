"""The application class: its requests carry the request state; production freezes start-up objects."""

from __future__ import annotations

from scimgate import ScimgateFlask
from scimgate.db.request_state import ScimgateRequest, current_state


def test_the_app_is_a_scimgate_flask(app):
    assert isinstance(app, ScimgateFlask)


def test_its_requests_carry_scimgates_request_state(app):
    """``ScimgateFlask.request_class`` gives every request its ``RequestState`` (the per-request
    state of db/request_state.py); Flask's own ``ensure_sync`` is used as it is."""
    assert app.request_class is ScimgateRequest
    assert "ensure_sync" not in vars(ScimgateFlask)
    with app.test_request_context("/scim/v2/Users"):
        state = current_state()
        assert state is not None and state.is_scim
    with app.test_request_context("/login"):
        state = current_state()
        assert state is not None and not state.is_scim
    assert current_state() is None


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
