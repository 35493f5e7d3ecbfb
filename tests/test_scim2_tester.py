"""Run the third-party compliance checker scim2-tester against the app on a loopback port."""

from __future__ import annotations

import collections

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from tests.conftest import configure_scim
from tests.live_server import live_server

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


def run_checker(app, client_name: str = "okta") -> list:
    """Configure SCIM for ``client_name``, serve the app and return scim2-tester's results."""
    headers = configure_scim(app, client_name)
    with (
        live_server(app) as url,
        httpx2.Client(base_url=f"{url}/scim/v2", headers=headers, timeout=30) as http,
    ):
        return check_server(SyncSCIMClient(http))


def summarize(results: list) -> str:
    counts = collections.Counter(r.status.name for r in results)
    failures = [
        f"{r.status.name}: {r.title} [{r.resource_type}] {r.reason}"
        for r in results
        if r.status not in PASSING
    ]
    return f"{dict(counts)}\n" + "\n".join(failures)


@pytest.mark.slow
def test_scim2_tester_finds_no_failure(app, capsys):
    results = run_checker(app)
    ran = [r for r in results if r.status is not Status.SKIPPED]
    report = summarize(results)
    with capsys.disabled():
        print(
            f"\nscim2-tester: {len(ran)} checks run, "
            f"{sum(r.status in PASSING for r in ran)} passed, "
            f"{sum(r.status not in PASSING for r in ran)} failed"
        )
    assert ran, "scim2-tester ran no check"
    assert all(r.status in PASSING for r in ran), report
