"""Login CSRF in a real browser: a page on another site auto-posts the attacker's own valid SAML
response into the victim's browser; scimgate refuses it, and the victim stays signed out."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.support.browser import configure_live_scim
from tests.support.saml_attack import auto_post, kept_acs_post

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _sign_in_as_mallory(attacker: Page) -> None:
    """The attacker signs in at the IdP as themself (SP-initiated)."""
    attacker.goto("/saml/login")
    expect(attacker).to_have_url(re.compile(r"/dev-idp/sso\?"))
    attacker.get_by_label("Username").fill("mallory")
    attacker.get_by_role("button", name="Sign in").click()


def test_a_cross_site_page_cannot_sign_the_victim_in_as_the_attacker(
    app: Flask, live_url: str, new_context, shot
) -> None:
    configure_live_scim(app, live_url)
    fields = kept_acs_post(new_context().new_page(), live_url, _sign_in_as_mallory)
    victim = new_context().new_page()
    auto_post(victim, f"{live_url}/saml/acs", fields)
    victim.wait_for_url(re.compile(f"^{re.escape(live_url)}/"))
    victim.wait_for_load_state()
    assert victim.request.get(f"{live_url}/api/v1/session").status == 401  # not signed in as mallory
    assert victim.url == f"{live_url}/saml/acs"
    expect(victim.get_by_role("heading", name="Sign-in failed")).to_be_visible()
    shot(victim, "saml-login-csrf-refused")
