"""Browser fixtures: the app served on a loopback port, driven by Playwright in Debian's Chromium.

Playwright's own browser download does not work on these machines, so the browser is the
``chromium`` Debian package (``scripts/setup`` installs it) at ``/usr/bin/chromium``, launched
headless with the flags that work as root in a sandboxed machine; Playwright gives every launch a
fresh temporary profile (``--user-data-dir``). Set ``SCIMGATE_SKIP_BROWSER=1`` to skip these
tests on a machine without Chromium; otherwise a missing browser is an error, not a skip.

Every test saves screenshots of the pages it visits under ``artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from scimgate import configuration_utils as cu
from scimgate.signin import dev_idp
from tests.live_server import live_server

CHROMIUM = os.environ.get("SCIMGATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole run."""
    if os.environ.get("SCIMGATE_SKIP_BROWSER") == "1":
        pytest.skip("SCIMGATE_SKIP_BROWSER=1")
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: run scripts/setup (it installs Debian's chromium package)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_url(app: Flask) -> Iterator[str]:
    """The test app served on 127.0.0.1 (a threaded server, same database as the fixtures)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with live_server(app) as url:
        yield url


@pytest.fixture
def new_context(chromium, live_url: str):
    """Make browser contexts (one per person: separate cookies) that may use the clipboard."""
    contexts = []

    def make(**options):
        """``options`` go to Playwright's ``new_context`` (e.g. ``java_script_enabled=False``)."""
        context = chromium.new_context(base_url=live_url, viewport={"width": 1280, "height": 860}, **options)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot() -> Callable:
    """Save a full-page screenshot as artifacts/screenshots/NAME.png; return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def configure_live_scim(app: Flask, live_url: str, *, bearer: bool = True) -> str | None:
    """SAML through the development IdP at the live URL, client okta, sync on.

    With ``bearer``, a first token is made here and returned; otherwise the credential that lets
    sync be enabled is basic auth, and no bearer token exists yet.
    """
    token = None
    with app.app_context():
        cu.configure_saml(
            dev_idp.idp_metadata(live_url), sp_entity_id=f"{live_url}/saml/metadata", base_url=live_url
        )
        cu.enable_saml()
        cu.update_scim_client("okta")
        if bearer:
            token = cu.generate_scim_bearer_token(1)
        else:
            cu.set_scim_basic_auth_username("scim-service")
            cu.set_scim_basic_auth_password("scim_account_password_12345&&")
        cu.enable_scim_user_and_group_sync()
    return token


def sign_in_with_password(page, username: str, password: str, start: str = "/admin/authentication") -> None:
    """Open ``start``, get sent to /login, sign in, come back to ``start``."""
    page.goto(start)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{start}")
