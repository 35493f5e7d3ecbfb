"""IdP-initiated sign-in in a real browser: from the development IdP's dashboard, served on
another site (``localhost`` while the app is ``127.0.0.1``) so the response arrives by a
cross-site POST as from a real IdP; and login CSRF with an IdP-initiated response."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.support.browser import configure_live_scim
from tests.support.saml_attack import auto_post, kept_acs_post

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _dashboard(live_url: str) -> str:
    """The development IdP's dashboard on another site than the app (another host name)."""
    return live_url.replace("127.0.0.1", "localhost") + "/dev-idp/start"


def _signed_in_as(page, live_url: str) -> str | None:
    answer = page.request.get(f"{live_url}/api/v1/session")
    return answer.json()["user"]["username"] if answer.status == 200 else None


def test_a_user_signs_in_from_the_idp_dashboard(app: Flask, live_url: str, new_context, shot) -> None:
    configure_live_scim(app, live_url)
    page = new_context().new_page()
    page.goto(_dashboard(live_url))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("RelayState").fill("/account")
    shot(page, "saml-idp-dashboard")
    page.get_by_role("button", name="Open scimgate").click()
    page.wait_for_url(f"{live_url}/saml/acs")
    expect(page.get_by_role("heading", name="Continue signing in?")).to_be_visible()
    expect(page.locator("#confirm-username")).to_have_text("alice")
    assert _signed_in_as(page, live_url) is None  # not before the user confirms
    shot(page, "saml-idp-initiated-confirm")
    page.get_by_role("button", name="Continue as alice").click()
    page.wait_for_url(f"{live_url}/account")
    assert _signed_in_as(page, live_url) == "alice"
    shot(page, "saml-idp-initiated-signed-in")


def _open_the_app_from_the_dashboard_as_mallory(live_url: str) -> Callable[[Page], None]:
    """The attacker opens the app from their own IdP dashboard (IdP-initiated)."""

    def start(attacker: Page) -> None:
        attacker.goto(_dashboard(live_url))
        attacker.get_by_label("Username").fill("mallory")
        attacker.get_by_role("button", name="Open scimgate").click()

    return start


def test_a_cross_site_page_cannot_sign_the_victim_in_with_an_idp_initiated_response(
    app: Flask, live_url: str, new_context, shot
) -> None:
    configure_live_scim(app, live_url)
    attacker = new_context().new_page()
    fields = kept_acs_post(attacker, live_url, _open_the_app_from_the_dashboard_as_mallory(live_url))
    victim = new_context().new_page()
    auto_post(victim, f"{live_url}/saml/acs", fields)
    victim.wait_for_url(f"{live_url}/saml/acs")
    # The victim is not signed in; the page names the account the attacker wants them in.
    expect(victim.get_by_role("heading", name="Continue signing in?")).to_be_visible()
    expect(victim.locator("#confirm-username")).to_have_text("mallory")
    assert _signed_in_as(victim, live_url) is None
    shot(victim, "saml-idp-initiated-csrf-confirm")
    # Even knowing the confirmation token, another site cannot press Continue for the victim: the
    # SameSite=Strict confirmation cookie does not go with its cross-site POST.
    token = victim.locator("input[name=confirm_token]").get_attribute("value") or ""
    elsewhere = victim.context.new_page()  # about:blank: another site, same browser and cookies
    auto_post(elsewhere, f"{live_url}/saml/continue", {"confirm_token": token})
    elsewhere.wait_for_url(f"{live_url}/saml/continue")
    expect(elsewhere.get_by_role("heading", name="Sign-in not confirmed")).to_be_visible()
    assert _signed_in_as(elsewhere, live_url) is None
    shot(elsewhere, "saml-idp-initiated-csrf-refused")
    assert "mallory" not in elsewhere.content()
