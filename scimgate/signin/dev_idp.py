"""A development SAML identity provider (pysaml2 as IdP), for development and tests only.

It exists so that ``scripts/serve`` gives a newcomer a working sign-in and so that the test suite
performs real signed SAML exchanges: the SP code under test receives exactly what a real IdP
sends (a signed assertion over the HTTP-POST binding), nothing is mocked. Whoever reaches its
form can sign in as *any* username, so it is registered only when ``DEV_IDP_ENABLED`` is set
(the development and testing configurations; never production), and it signs with the throwaway
key shipped in ``scimgate/dev/``.

Routes (under the SAML base URL): ``/dev-idp/metadata``, ``/dev-idp/sso`` (GET: the AuthnRequest
arrives by HTTP-Redirect and a form asks which username to sign in as; POST: the signed response
is sent to the SP's ACS by an auto-submitting form), and ``/dev-idp/start``: the IdP's
"dashboard" (GET: a tile for scimgate with a username and a RelayState; POST: an IdP-initiated,
unsolicited signed response, without ``InResponseTo``, posted to the ACS the same way).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, render_template, request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_UNSPECIFIED, NameID
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from scimgate.signin import saml_sp

if TYPE_CHECKING:
    from saml2.server import Server

DEV_DIR = Path(__file__).parent / "dev"
SHIPPED_BASE_URL = "http://localhost:5000"  # the base URL written in the shipped metadata
PREFIX = "/dev-idp"
PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def idp_metadata(base_url: str) -> str:
    """Return the development IdP's metadata for an app served at ``base_url``."""
    text = (DEV_DIR / "idp-metadata.xml").read_text(encoding="utf-8")
    return text.replace(SHIPPED_BASE_URL, base_url.rstrip("/"))


def idp_server() -> Server:
    """The pysaml2 IdP that signs with the development key (tests also craft responses with it)."""
    from saml2.server import Server  # imported on use: it drags in a noisy deprecated cipher module

    base = saml_sp.sp_urls().base_url
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base}{PREFIX}/metadata",
            "key_file": str(current_app.config.get("DEV_IDP_KEY_FILE") or DEV_DIR / "idp-key.pem"),
            "cert_file": str(current_app.config.get("DEV_IDP_CERT_FILE") or DEV_DIR / "idp-cert.pem"),
            "metadata": {"inline": [saml_sp.metadata_xml()]},
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(f"{base}{PREFIX}/sso", BINDING_HTTP_REDIRECT)]},
                    "name_id_format": [NAMEID_FORMAT_UNSPECIFIED],
                    # pysaml2 would sign with RSA-SHA1, which scimgate refuses unless allowed.
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                    "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
                }
            },
        }
    )
    return Server(config=config)


def make_blueprint() -> Blueprint:
    """Build the development IdP blueprint (registered only with ``DEV_IDP_ENABLED``)."""
    bp = Blueprint("dev_idp", __name__, url_prefix=PREFIX, template_folder="web/templates")
    bp.add_url_rule("/metadata", "metadata", metadata)
    bp.add_url_rule("/sso", "sso", sso, methods=["GET", "POST"])
    bp.add_url_rule("/start", "start", start, methods=["GET", "POST"])
    return bp


def metadata() -> Response:
    """The development IdP's metadata (what ``scimgate dev bootstrap`` configures)."""
    xml = idp_metadata(saml_sp.sp_urls().base_url)
    return Response(xml, 200, mimetype="application/samlmetadata+xml")


def sso() -> Response | tuple[str, int]:
    """GET: ask which username to sign in as. POST: answer the SP with a signed assertion."""
    saml_request = request.values.get("SAMLRequest", "")
    relay_state = request.values.get("RelayState", "")
    if not saml_request:
        return "development IdP: no SAMLRequest; start at /saml/login\n", 400
    if request.method == "GET" or not request.form.get("username"):
        return render_template(
            "signin/dev_idp_login.html", saml_request=saml_request, relay_state=relay_state
        ), 200
    server = idp_server()
    binding = request.form.get("binding") or BINDING_HTTP_REDIRECT
    parsed = server.parse_authn_request(saml_request, binding)
    args = server.response_args(parsed.message, [BINDING_HTTP_POST])
    args.pop("binding", None)
    return _post_response(server, request.form["username"], args, relay_state)


def unsolicited_args() -> dict[str, object]:
    """What an IdP-initiated response is addressed with: our ACS and entity id, no request."""
    urls = saml_sp.sp_urls()
    return {
        "in_response_to": None,
        "destination": urls.acs_url,
        "sp_entity_id": urls.entity_id,
        "name_id_policy": None,
    }


def start() -> Response | tuple[str, int]:
    """The dashboard: GET shows scimgate's tile; POST signs in there, unsolicited (IdP-initiated)."""
    relay_state = request.values.get("RelayState", "")
    username = request.form.get("username") if request.method == "POST" else None
    if not username:
        return render_template("signin/dev_idp_start.html", relay_state=relay_state), 200
    return _post_response(idp_server(), username, unsolicited_args(), relay_state)


def _post_response(
    server: Server, username: str, args: dict[str, object], relay_state: str
) -> tuple[str, int]:
    """Sign an assertion for ``username`` and answer with the form that posts it to the ACS."""
    response = server.create_authn_response(
        identity={"uid": [username], "displayName": [request.form.get("display_name") or username]},
        userid=username,
        name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=username),
        authn={"class_ref": PASSWORD_PROTECTED, "authn_auth": server.config.entityid},
        sign_assertion=True,
        sign_response=True,
        **args,
    )
    encoded = base64.b64encode(str(response).encode("utf-8")).decode("ascii")
    page = render_template(
        "signin/dev_idp_post.html", action=args["destination"], saml_response=encoded, relay_state=relay_state
    )
    return page, 200
