"""A real Prometheus server (Debian's ``prometheus``) on a loopback port, scraping one target."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.gunicorn_server import free_port
from tests.support.processes import stop, wait_until_answers

SCRAPE_INTERVAL = "1s"


def binary() -> str | None:
    """Where the ``prometheus`` server is installed (``scripts/setup`` installs it), or None."""
    return shutil.which("prometheus") or (
        "/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None
    )


@dataclass
class Prometheus:
    """A running Prometheus and its HTTP API."""

    url: str
    process: subprocess.Popen

    def query(self, expression: str) -> list[dict]:
        """The result vector of an instant query (``/api/v1/query``)."""
        address = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expression})}"
        with urllib.request.urlopen(address, timeout=10) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def value(self, expression: str) -> float | None:
        """The one value of a query that yields one series (None when it yields none)."""
        result = self.query(expression)
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, expression: str, expected: float, timeout: float = 30) -> float | None:
        """Query until ``expression`` reads ``expected`` (a scrape after the traffic) or time runs out;
        return what it last read."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.value(expression)
            if found == expected or time.monotonic() > deadline:
                return found
            time.sleep(0.25)


@contextmanager
def prometheus(target: str, tmp_path: Path, metrics_path: str = "/metrics") -> Iterator[Prometheus]:
    """Run Prometheus scraping ``target`` (``host:port``) every second, with its data in ``tmp_path``."""
    executable = binary()
    if executable is None:
        raise RuntimeError("prometheus is not installed: run scripts/setup")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        f"""global:
  scrape_interval: {SCRAPE_INTERVAL}
  scrape_timeout: {SCRAPE_INTERVAL}
scrape_configs:
  - job_name: scimgate
    metrics_path: {metrics_path}
    static_configs:
      - targets: ["{target}"]
""",
        encoding="utf-8",
    )
    port = free_port()
    log = open(tmp_path / "prometheus.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [
            executable,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{url}/-/ready", process, tmp_path / "prometheus.log")
        yield Prometheus(url, process)
    finally:
        stop(process)
        log.close()
