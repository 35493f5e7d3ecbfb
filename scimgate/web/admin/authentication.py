"""Admin Settings > Authentication: the SCIM Token section, as the reference walks it, and the
read-only SCIM status with the command that changes each part.

"Generate Token" posts the chosen validity (1-6 months) and the answer is this page with a dialog
holding the new token: it is shown once (the response is ``no-store``), never stored, and
generating again revokes the previous token at once (``generate_scim_bearer_token``). So while a
valid token exists, the POST must carry ``confirm=yes`` (the page's dialog sets it); without it
the answer is the confirmation itself and nothing changes, so a stray POST cannot revoke the
token the IdP is using.

The set-up assistant (``scimgate.web.admin.setup_assistant``) shows what to enter in the active client's
IdP, with a connection indicator read from ``scim_activity``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, render_template, request

from scimgate import configuration_utils as cu
from scimgate.api.responses import base_url
from scimgate.conf import saml as saml_config
from scimgate.conf import token_expiry
from scimgate.configuration_utils import TOKEN_MAX_MONTHS, TOKEN_MIN_MONTHS, ScimConfigurationError
from scimgate.logs import activity as scim_activity
from scimgate.models import utcnow
from scimgate.plugin_host import get_host, known_clients
from scimgate.web import timefmt
from scimgate.web.admin import setup_assistant
from scimgate.web.pages import error_page

MONTHS = tuple(range(TOKEN_MIN_MONTHS, TOKEN_MAX_MONTHS + 1))
# The exact words the confirmation gives (page dialog and the no-script confirmation alike).
REVOKE_WARNING = "The identity provider's current token stops working immediately."


def register(bp: Blueprint) -> None:
    """Add the Authentication page and its token form."""
    bp.add_url_rule("/authentication", "authentication", show, methods=["GET"])
    bp.add_url_rule("/authentication/token", "generate_token", generate, methods=["POST"])


def status() -> list[dict[str, Any]]:
    """The SCIM status rows: what is set now, and the command that changes it (never a secret)."""
    basic = cu.get_scim_basic_auth_info()
    token = cu.get_scim_bearer_token()
    saml = saml_config.get_saml_status()
    auth = cu.auth_status()  # the same answer as the preflight and `scimgate scim status`
    chosen = cu.is_scim_client_chosen()
    sync = cu.check_if_scim_sync_is_enabled()
    refused = {
        s: f" (not accepted by {auth.client})" if s not in auth.accepted else "" for s in ("basic", "bearer")
    }
    # "expired on <date>" / "expires on <date> (in N days)" / "valid until <date>"
    token_text = token["state"] + refused["bearer"] if token["configured"] else "not set"
    password_set_at = timefmt.for_people(basic["password_set_at"])
    problem = auth.problem()
    return [
        {
            "name": "SCIM client",
            "value": auth.client + ("" if chosen else " (default, not chosen yet)"),
            "ok": True,  # okta is the reference's default client
            "command": f"scimgate scim set-client NAME   # one of: {', '.join(known_clients())}",
        },
        {
            "name": "SCIM sync",
            "value": "enabled" if sync else "disabled",
            "ok": sync,
            "command": "scimgate scim disable" if sync else "scimgate scim enable",
        },
        {
            "name": "Basic authentication",
            "value": (
                f"username {basic['username'] or 'not set'}; password "
                f"{'set ' + password_set_at if basic['password_set'] else 'not set'}"
                + (refused["basic"] if basic["username"] or basic["password_set"] else "")
            ),
            "ok": auth.basic_set and "basic" in auth.accepted,
            "command": "scimgate scim set-basic-auth --username NAME   # asks the password",
        },
        {
            "name": "Bearer token",
            "value": token_text,
            "ok": auth.token_valid and "bearer" in auth.accepted,
            "warn": bool(token["expiring"]),  # OK, but ends within token_expiry.WARN_DAYS days
            "command": "scimgate scim generate-token --months N   # or Generate Token above",
        },
        {
            "name": "SCIM authentication",
            "value": f"{auth.client} can authenticate ({', '.join(auth.usable)})"
            if problem is None
            else problem,
            "ok": problem is None,
            "command": "scimgate scim status",
        },
        {
            "name": "SAML",
            "value": (
                f"{'configured' if saml['configured'] else 'not configured'}, "
                f"{'enabled' if saml['enabled'] else 'disabled'}"
                + (f" (IdP {saml['idp_entity_id']})" if saml["idp_entity_id"] else "")
                + f"; sign-in from the IdP dashboard {'on' if saml['idp_initiated'] else 'off'}"
            ),
            "ok": bool(saml["configured"] and saml["enabled"]),
            "command": (
                "scimgate saml configure --idp-metadata FILE; scimgate saml "
                + ("disable" if saml["enabled"] else "enable")
            ),
        },
    ]


def ago(moment: dt.datetime, now: dt.datetime) -> str:
    """``just now``, ``3 min ago``, ``2 h ago``, ``4 days ago``: how long since the IdP called."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} ago"


def _assistant() -> setup_assistant.Assistant:
    auth = cu.auth_status()
    hooks = get_host().hooks_for(auth.client)
    username = cu.get_scim_basic_auth_info()["username"]
    return setup_assistant.build(hooks, base_url(), auth, username)


def _page(
    new_token: str | None = None,
    months: int | None = None,
    status_code: int = 200,
    confirm_months: int | None = None,
) -> tuple[str, int]:
    token = cu.get_scim_bearer_token()
    return (
        render_template(
            "admin/authentication.html",
            token=token,
            token_in_use=bool(token["configured"] and not token["expired"]),
            new_token=new_token,
            months_options=MONTHS,
            chosen_months=months or confirm_months or TOKEN_MAX_MONTHS,
            confirm_months=confirm_months,
            revoke_warning=REVOKE_WARNING,
            status_rows=status(),
            assistant=_assistant(),
            connection=scim_activity.connection(flush_first=request.method == "GET"),
            now=utcnow(),
            ago=ago,
            docs_base_url=(current_app.config.get("DOCS_BASE_URL") or "").rstrip("/"),
        ),
        status_code,
    )


def show() -> tuple[str, int]:
    """The SCIM Token section (created, expiry and fingerprint only) and the SCIM status."""
    return _page()


def generate() -> tuple[str, int]:
    """Generate a token valid for the chosen months; show it once in the dialog.

    While a valid token exists, only a POST with ``confirm=yes`` generates; any other answers the
    confirmation (status 200, nothing changed).
    """
    try:
        months = int(request.form.get("months", ""))
        if months not in MONTHS:
            raise ScimConfigurationError(
                f"a token can be valid from {TOKEN_MIN_MONTHS} to {TOKEN_MAX_MONTHS} months, got {months}"
            )
        expiry = token_expiry.current()
        if expiry is not None and not expiry.expired and request.form.get("confirm") != "yes":
            return _page(confirm_months=months)
        token = cu.generate_scim_bearer_token(months)
    except (ValueError, ScimConfigurationError) as exc:
        message = str(exc) if isinstance(exc, ScimConfigurationError) else "choose from 1 to 6 months"
        return error_page(400, "No token generated", message[:1].upper() + message[1:])
    return _page(new_token=token, months=months)
