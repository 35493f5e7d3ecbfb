"""What the login-CSRF browser tests share: an attacker who keeps their own IdP response instead of
posting it, and a page of another site that auto-posts such a response into a victim's browser."""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import parse_qs

from playwright.sync_api import Page


def kept_acs_post(attacker: Page, live_url: str, start_sign_in: Callable[[Page], None]) -> dict[str, str]:
    """Run ``start_sign_in`` in the attacker's page and return the form the IdP posts to our ACS,
    caught before it arrives (the attacker keeps it to replay elsewhere)."""
    captured: dict[str, str] = {}

    def keep(route) -> None:
        posted = parse_qs(route.request.post_data or "", keep_blank_values=True)
        captured.update({name: values[0] for name, values in posted.items()})
        route.abort()

    attacker.route(f"{live_url}/saml/acs", keep)
    start_sign_in(attacker)
    for _ in range(40):  # the IdP's page auto-submits; wait for the POST to be caught
        if "SAMLResponse" in captured:
            break
        attacker.wait_for_timeout(250)
    assert "SAMLResponse" in captured
    return captured


def auto_post(page: Page, action: str, fields: dict[str, str]) -> None:
    """Turn ``page`` into a page of another site (about:blank content) that posts ``fields`` to
    ``action`` at once: the POST is cross-site, as from evil.example."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in fields.items()
    )
    page.set_content(
        f'<form id="f" method="post" action="{action}">{inputs}</form>'
        "<script>document.getElementById('f').submit()</script>"
    )
