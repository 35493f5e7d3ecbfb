"""Helpers for the Authentication page's set-up assistant and token tests: a signed-in admin,
the page's values read back from its HTML, and a token whose stored expiry is moved (the clock
the warnings read is the token's own expiry, so no clock is faked)."""

from __future__ import annotations

import datetime as dt
import html
import re

from flask import Flask
from flask.testing import FlaskClient

from scimgate.conf import keys as K
from scimgate.conf import store as conf_store
from scimgate.models import utcnow
from tests.support.signin import add_admin, configure_dev_saml, password_sign_in


def sign_in_admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """A signed-in built-in Server Admin (SAML on through the development IdP)."""
    configure_dev_saml(app)
    with app.app_context():
        add_admin()
    assert password_sign_in(client, "admin").status_code == 302
    return client


def csrf_of(client: FlaskClient, path: str = "/profile") -> str:
    """The CSRF token a page's forms carry."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def assistant_fields(page: str) -> dict[str, tuple[str, bool]]:
    """The assistant's rows: label → (value, offered with a Copy button)."""
    table = re.search(r'<table class="stack" id="assistant-fields">(.*?)</table>', page, flags=re.S)
    assert table, page
    rows = re.findall(
        r'<th scope="row" data-label="Field">(.*?)</th>\s*<td data-label="Value">(.*?)</td>',
        table[1],
        flags=re.S,
    )
    out = {}
    for label, cell in rows:
        value = re.search(r'<input [^>]*value="([^"]*)"', cell)
        copyable = value is not None and 'class="copy"' in cell
        text = value[1] if value else re.sub(r"<[^>]+>", "", cell)
        out[html.unescape(label)] = (html.unescape(text).strip(), copyable)
    return out


def list_items(page: str, list_id: str) -> list[str]:
    """The items of the ``<ul id=list_id>``."""
    found = re.search(rf'<ul id="{list_id}">(.*?)</ul>', page, flags=re.S)
    return (
        []
        if found is None
        else [html.unescape(i) for i in re.findall(r"<li>(.*?)</li>", found[1], flags=re.S)]
    )


def text_of(page: str, element_id: str) -> str:
    """The text of the element with ``element_id`` (tags removed, whitespace collapsed)."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(dd|p|dialog|td)>', page, flags=re.S)
    assert found, f"no #{element_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found[1])).split())


def move_token_expiry(app: Flask, days_from_now: float) -> dt.datetime:
    """Set the stored expiry of the current token to ``days_from_now`` days from now."""
    expires = utcnow() + dt.timedelta(days=days_from_now)
    with app.app_context():
        conf_store.put_many({K.TOKEN_EXPIRES: conf_store.encode_datetime(expires)})
    return expires.replace(microsecond=0)


def people(moment: dt.datetime) -> str:
    """How pages and commands write ``moment``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
