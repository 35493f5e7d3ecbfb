"""Login CSRF in a real browser: a page on another site auto-posts the attacker's own valid SAML
response into the victim's browser; scimgate refuses it, and the victim stays signed out."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browser.conftest import configure_live_scim

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _attackers_response(new_context, live_url: str) -> dict[str, str]:
    """The attacker signs in at the IdP as themself and keeps the form instead of posting it."""
    attacker = new_context().new_page()
    captured: dict[str, str] = {}

    def keep(route) -> None:
        posted = parse_qs(route.request.post_data or "", keep_blank_values=True)
        captured.update({name: values[0] for name, values in posted.items()})
        route.abort()

    attacker.route(f"{live_url}/saml/acs", keep)
    attacker.goto("/saml/login")
    expect(attacker).to_have_url(re.compile(r"/dev-idp/sso\?"))
    attacker.get_by_label("Username").fill("mallory")
    attacker.get_by_role("button", name="Sign in").click()
    for _ in range(40):  # the IdP's page auto-submits; wait for the POST to be caught
        if "SAMLResponse" in captured:
            break
        attacker.wait_for_timeout(250)
    assert "SAMLResponse" in captured
    return captured


def test_a_cross_site_page_cannot_sign_the_victim_in_as_the_attacker(
    app: Flask, live_url: str, new_context, shot
) -> None:
    configure_live_scim(app, live_url)
    fields = _attackers_response(new_context, live_url)
    victim = new_context().new_page()
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in fields.items()
    )
    # about:blank content is another site than the app: the POST is cross-site, as from evil.example.
    victim.set_content(
        f'<form id="f" method="post" action="{live_url}/saml/acs">{inputs}</form>'
        "<script>document.getElementById('f').submit()</script>"
    )
    victim.wait_for_url(re.compile(f"^{re.escape(live_url)}/"))
    victim.wait_for_load_state()
    assert victim.request.get(f"{live_url}/api/v1/session").status == 401  # not signed in as mallory
    assert victim.url == f"{live_url}/saml/acs"
    expect(victim.get_by_role("heading", name="Sign-in failed")).to_be_visible()
    shot(victim, "saml-login-csrf-refused")
