"""Starting and stopping the servers tests run beside scimgate (gunicorn, Prometheus, PgBouncer)."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path


def wait_until_answers(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Return once ``url`` answers a GET with a 2xx; raise with ``log``'s text if ``process``
    exits first or ``timeout`` seconds pass (the caller stops the process)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.2)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
