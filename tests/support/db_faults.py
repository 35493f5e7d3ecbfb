"""Support for the database-fault tests: a small filesystem to fill, a gunicorn served with SCIM
set up, and checks of what the server answered and kept."""

from __future__ import annotations

import errno
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

from scimgate import create_app
from scimgate.extensions import db
from scimgate.scim import urns
from tests.support.gunicorn_server import Served
from tests.support.scim import configure_scim

FILLER_CHUNK = 64 * 1024


@contextmanager
def small_filesystem(directory: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. ``"8m"``) mounted on ``directory``, always unmounted afterwards.

    Mounting needs root (the suite runs as root here and in CI); a refusal fails the test: a
    disk-full test that does not run proves nothing.
    """
    directory.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        raise RuntimeError(
            f"cannot mount a tmpfs on {directory} (root is required): {mounted.stderr.strip()}"
        )
    try:
        yield directory
    finally:
        unmounted = subprocess.run(["umount", str(directory)], capture_output=True, text=True, check=False)
        if unmounted.returncode != 0:  # still busy (a server that did not stop): detach it anyway
            subprocess.run(["umount", "-l", str(directory)], check=False)


def fill(path: Path) -> int:
    """Write ``path`` until its filesystem has no space left; return the bytes written."""
    written = 0
    chunk = b"\0" * FILLER_CHUNK
    with open(path, "wb", buffering=0) as handle:
        while True:
            try:
                written += handle.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
        for size in (4096, 512, 1):  # the last partial blocks too
            try:
                while True:
                    written += handle.write(chunk[:size])
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    return written


def worker_pids(served: Served) -> set[int]:
    """The gunicorn master's worker processes (a restarted worker has a new id)."""
    children = Path(f"/proc/{served.process.pid}/task/{served.process.pid}/children").read_text()
    return {int(pid) for pid in children.split()}


def set_up_scim(served: Served) -> str:
    """Configure SAML, the Okta client, a token and sync in the served database; return the token.

    Done in this process through the same functions the ``scimgate`` commands call (each command
    would start a Python process of its own: seconds apiece on a loaded machine), in a thread of
    its own whose kept SQLite connection ends with it (the test may unmount the file's disk).
    """
    app = create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": served.env["SCIMGATE_DATABASE_URL"],
            "LOG_DIR": served.env["SCIMGATE_LOG_DIR"],
        },
    )
    result: dict[str, str] = {}

    def configure() -> None:
        result.update(configure_scim(app))
        with app.app_context():
            db.session.remove()

    worker = threading.Thread(target=configure)
    worker.start()
    worker.join()
    with app.app_context():
        db.engine.dispose()
    assert "Authorization" in result, "the SCIM set-up failed (see the captured output)"
    return result["Authorization"].removeprefix("Bearer ")


def scim_http(base_url: str, token: str, timeout: float = 30) -> httpx2.Client:
    """An HTTP client for ``<base_url>/scim/v2`` with the token."""
    return httpx2.Client(
        base_url=f"{base_url}/scim/v2",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
        timeout=timeout,
    )


def user_body(name: str) -> dict:
    """A SCIM user with enough attributes to cost the database a few pages."""
    return {
        "schemas": [urns.USER],
        "userName": name,
        "name": {"givenName": name, "familyName": "Fault"},
        "emails": [{"value": f"{name}@example.com", "primary": True}],
        "active": True,
    }


def assert_scim_error(response: httpx2.Response, statuses: tuple[int, ...], retry_after: bool = True) -> None:
    """``response`` is a SCIM error (RFC 7644 §3.12) with one of ``statuses`` and a ``detail``."""
    assert response.status_code in statuses, (response.status_code, response.text)
    body = response.json()
    assert body["schemas"] == [urns.ERROR], body
    assert body["status"] == str(response.status_code), body
    assert body.get("detail"), body
    if retry_after:
        assert response.headers.get("Retry-After", "").isdigit(), response.headers


def mode_of(path: Path) -> int:
    """The permission bits of ``path``."""
    return os.stat(path).st_mode & 0o777
