"""The Authentication page's set-up assistant and token confirmation in a real browser (Chromium):
Copy buttons, the connection indicator after real SCIM requests, the confirmation dialog (modal,
keyboard, Esc cancels) and its no-script form, and the expiry banner. Screenshots are saved under
artifacts/screenshots/ (assistant-*, token-confirm-*, token-expiring-*)."""

from __future__ import annotations

import datetime as dt

import httpx2
import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import expect

from scimgate import configuration_utils as cu
from scimgate.conf import keys as K
from scimgate.conf import store as conf_store
from scimgate.extensions import db
from scimgate.logs import activity as scim_activity
from scimgate.models import utcnow
from tests.support.browser import configure_live_scim, sign_in_with_password
from tests.support.signin import ADMIN_PASSWORD, add_admin

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SENTENCE = "The identity provider's current token stops working immediately."


def scim_status(live_url: str, token: str, path: str = "/scim/v2/Users") -> int:
    with httpx2.Client(base_url=live_url, timeout=10) as http:
        return http.get(path, headers={"Authorization": f"Bearer {token}"}).status_code


def _fingerprint(app: Flask) -> str:
    with app.app_context():
        return cu.get_scim_bearer_token()["fingerprint"]


def _admin_page(app: Flask, new_context, **context_options):
    with app.app_context():
        add_admin("admin")
    context = new_context(**context_options)
    page = context.new_page()
    sign_in_with_password(page, "admin", ADMIN_PASSWORD)
    return page


def test_assistant_shows_okta_values_copies_the_base_url_and_reports_the_connection(
    app: Flask, live_url, new_context, shot
) -> None:
    scim_activity.flush_all()  # rows an earlier test's requests still had queued: not this test's
    with app.app_context():
        db.session.execute(sa.delete(scim_activity.ScimActivity))
        db.session.commit()
    token = configure_live_scim(app, live_url)
    page = _admin_page(app, new_context)
    assistant = page.locator("#setup-assistant")
    expect(assistant.get_by_role("heading", name="Set up Okta")).to_be_visible()
    expect(page.get_by_role("textbox", name="SCIM connector base URL", exact=True)).to_have_value(
        f"{live_url}/scim/v2"
    )
    expect(assistant).to_contain_text("HTTP Header (or Basic Auth)")
    expect(page.get_by_role("textbox", name="Unique identifier field for users", exact=True)).to_have_value(
        "userName"
    )
    expect(page.locator("#connection-ok")).to_have_text("Never never")
    assistant.get_by_role("button", name="Copy SCIM connector base URL").click()
    expect(page.locator("#assistant-copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_url}/scim/v2"
    assert token not in page.content()
    shot(page, "assistant-okta-never-connected")

    assert scim_status(live_url, token) == 200
    assert scim_status(live_url, "not-the-token", "/scim/v2/Groups") == 401
    page.reload()
    expect(page.locator("#connection-ok")).to_contain_text("just now: 200 GET /scim/v2/Users")
    expect(page.locator("#connection-auth-failure")).to_contain_text("401 GET /scim/v2/Groups")
    expect(page.locator("#connection-auth-failure")).to_contain_text("unknown token")
    page.locator("#connection").scroll_into_view_if_needed()
    shot(page, "assistant-okta-connected")


def test_assistant_for_entra_is_bearer_only(app: Flask, live_url, new_context, shot) -> None:
    configure_live_scim(app, live_url)
    with app.app_context():
        cu.disable_sync_from_directory_provider()
        cu.update_scim_client("azure_active_directory")
    page = _admin_page(app, new_context)
    expect(
        page.locator("#setup-assistant").get_by_role("heading", name="Set up Microsoft Entra ID")
    ).to_be_visible()
    expect(page.get_by_role("textbox", name="Tenant URL", exact=True)).to_have_value(f"{live_url}/scim/v2")
    expect(page.locator("#assistant-fields")).to_contain_text("Secret Token")
    expect(page.locator("#assistant-fields")).not_to_contain_text("Basic")
    shot(page, "assistant-entra")


def test_generate_asks_first_esc_cancels_and_confirm_replaces(
    app: Flask, live_url, new_context, shot
) -> None:
    old = configure_live_scim(app, live_url)
    before = _fingerprint(app)
    page = _admin_page(app, new_context)

    page.get_by_label("Token expiration").select_option("2")
    page.get_by_role("button", name="Generate Token").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.querySelector('#confirm-dialog').matches(':modal')")
    expect(dialog).to_contain_text(SENTENCE)
    assert page.evaluate("document.activeElement.id") == "confirm-generate"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "cancel-generate", "focus stays in the dialog"
    shot(page, "token-confirm-dialog")

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert _fingerprint(app) == before and scim_status(live_url, old) == 200

    page.get_by_role("button", name="Generate Token").click()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert _fingerprint(app) == before

    page.get_by_role("button", name="Generate Token").click()
    page.get_by_role("button", name="Generate a new token").click()
    expect(page.locator("#token-dialog")).to_be_visible()
    expect(page.locator("#token-dialog")).to_contain_text("Valid for 2 months")
    new = page.locator("#new-token").input_value()
    shot(page, "token-confirm-replaced")
    assert new != old and scim_status(live_url, old) == 401 and scim_status(live_url, new) == 200


def test_without_javascript_the_server_asks_before_replacing(app: Flask, live_url, new_context, shot) -> None:
    old = configure_live_scim(app, live_url)
    before = _fingerprint(app)
    page = _admin_page(app, new_context, java_script_enabled=False)
    page.get_by_role("button", name="Generate Token").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    expect(page.locator("#confirm-warning")).to_contain_text(SENTENCE)
    assert _fingerprint(app) == before and scim_status(live_url, old) == 200
    shot(page, "token-confirm-no-script")
    page.get_by_role("button", name="Generate a new token").click()
    expect(page.locator("#new-token")).to_be_visible()
    assert scim_status(live_url, old) == 401


def test_expiring_and_expired_token_banners(app: Flask, live_url, new_context, shot) -> None:
    configure_live_scim(app, live_url)
    expires = (utcnow() + dt.timedelta(days=5)).replace(microsecond=0)
    with app.app_context():
        conf_store.put_many({K.TOKEN_EXPIRES: conf_store.encode_datetime(expires)})
    page = _admin_page(app, new_context)
    banner = page.locator("#token-banner")
    expect(banner).to_contain_text(f"expires on {expires:%Y-%m-%d %H:%M:%S} UTC (in 5 days)")
    shot(page, "token-expiring-authentication")
    page.goto("/admin/users")
    expect(banner).to_be_visible()
    shot(page, "token-expiring-users")
    with app.app_context():
        conf_store.put_many({K.TOKEN_EXPIRES: conf_store.encode_datetime(expires - dt.timedelta(days=7))})
    page.goto("/admin/authentication")
    expect(banner).to_contain_text("expired on")
    expect(page.locator("#scim-status")).to_contain_text("expired on")
    expect(page.locator("#scim-status")).not_to_contain_text("expired until")
    shot(page, "token-expired-authentication")
