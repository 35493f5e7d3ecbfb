"""scimgate as a SAML 2.0 service provider (pysaml2), built from the stored SAML configuration.

Everything the security of sign-in rests on is checked by pysaml2, configured strictly: the
assertion must be signed by the certificate in the IdP metadata (``want_assertions_signed``), be
addressed to our ACS URL (destination), name our entity id (audience), be inside its validity
window, and answer an AuthnRequest we sent (``allow_unsolicited`` is off). The "requests we sent"
live in the database (``saml_outstanding_request``), not in process memory, and a response
consumes its row: a response is accepted once, by whichever process or node receives it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from defusedxml import ElementTree
from flask import current_app, has_request_context, request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED

from scimgate import conf_keys as K
from scimgate import conf_store
from scimgate.browser import local_redirect
from scimgate.extensions import db
from scimgate.models import SamlOutstandingRequest, utcnow

USERNAME_ATTRIBUTE_KEY = "saml.username_attribute"
OUTSTANDING_TTL = dt.timedelta(minutes=10)
NEXT_URL_MAX = 1000  # SamlOutstandingRequest.next_url
# Anonymous /saml/login requests each store a row for OUTSTANDING_TTL: above this many rows the
# oldest go (their sign-ins must start again), so a flood stores a bounded amount.
OUTSTANDING_MAX_DEFAULT = 10_000
CLOCK_SKEW_SECONDS = 60
MAX_RESPONSE_BYTES = 512_000
_PROTOCOL_NS = "{urn:oasis:names:tc:SAML:2.0:protocol}"


class SamlSignInError(Exception):
    """A SAML response was refused; ``reason`` is for the log, never shown verbatim to users."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SpUrls:
    """Where scimgate lives as a service provider."""

    base_url: str
    entity_id: str
    acs_url: str
    metadata_url: str


def sp_urls() -> SpUrls:
    """Derive our URLs: configured base URL, else the app's ``BASE_URL``, else this request's."""
    base = conf_store.get_str(K.SAML_BASE_URL) or current_app.config.get("BASE_URL") or ""
    if not base and has_request_context():
        base = request.url_root
    base = base.rstrip("/")
    entity_id = conf_store.get_str(K.SAML_SP_ENTITY_ID) or f"{base}/saml/metadata"
    return SpUrls(base, entity_id, f"{base}/saml/acs", f"{base}/saml/metadata")


def is_ready() -> bool:
    """True when SAML is configured and enabled, so sign-in can be offered."""
    return conf_store.get_str(K.SAML_IDP_METADATA) is not None and conf_store.get_bool(K.SAML_ENABLED, False)


def _config() -> SPConfig:
    urls = sp_urls()
    settings = {
        "entityid": urls.entity_id,
        "metadata": {"inline": [conf_store.get_str(K.SAML_IDP_METADATA)]},
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(urls.acs_url, BINDING_HTTP_POST)]},
                "allow_unsolicited": False,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "authn_requests_signed": False,
                "name_id_format": [NAMEID_FORMAT_UNSPECIFIED],
                "name_id_format_allow_create": True,
            }
        },
    }
    config = SPConfig()
    config.load(settings)
    return config


def metadata_xml() -> str:
    """Return our SP metadata (entity id, ACS URL and binding) for the IdP admin to import."""
    return create_metadata_string(None, _config(), valid=None, sign=False)


def safe_next(next_url: str | None) -> str:
    """Keep only a local path, so a sign-in can never redirect to another site; a path longer
    than the stored column (an anonymous client chooses it) falls back to ``/``."""
    if next_url and len(next_url) > NEXT_URL_MAX:
        return "/"
    return local_redirect.local_target(next_url, "/")


def _keep_newest_outstanding(keep: int) -> None:
    """Delete all but the newest ``keep`` outstanding requests (one indexed range delete)."""
    newest = (
        sa.select(SamlOutstandingRequest.created)
        .order_by(SamlOutstandingRequest.created.desc())
        .offset(max(keep, 1) - 1)
        .limit(1)
        .scalar_subquery()
    )
    db.session.execute(sa.delete(SamlOutstandingRequest).where(SamlOutstandingRequest.created < newest))


def start_login(next_url: str | None) -> str:
    """Create an AuthnRequest, remember its id in the database, return the IdP redirect URL."""
    client = Saml2Client(config=_config())
    request_id, info = client.prepare_for_authenticate(
        entityid=conf_store.get_str(K.SAML_IDP_ENTITY_ID), relay_state="", binding=BINDING_HTTP_REDIRECT
    )
    # End the read-only transaction of the configuration reads: on SQLite a GET's deferred
    # transaction that reads and then writes fails at once when another process wrote meanwhile.
    db.session.rollback()
    now = utcnow()
    db.session.execute(
        sa.delete(SamlOutstandingRequest).where(SamlOutstandingRequest.created < now - OUTSTANDING_TTL)
    )
    db.session.add(SamlOutstandingRequest(request_id=request_id, created=now, next_url=safe_next(next_url)))
    db.session.flush()
    _keep_newest_outstanding(int(current_app.config.get("SAML_MAX_OUTSTANDING", OUTSTANDING_MAX_DEFAULT)))
    db.session.commit()
    return dict(info["headers"])["Location"]


def _in_response_to(xml: bytes) -> str | None:
    """Read ``InResponseTo`` of the Response to find the outstanding request (verified later)."""
    try:
        root = ElementTree.fromstring(xml, forbid_dtd=True)
    except Exception:
        raise SamlSignInError("the SAMLResponse is not well-formed XML") from None
    if root.tag != f"{_PROTOCOL_NS}Response":
        raise SamlSignInError("the SAMLResponse is not a samlp:Response")
    return root.get("InResponseTo")


@dataclass(frozen=True)
class SignIn:
    """A verified sign-in: the username and where to go next."""

    username: str
    next_url: str


def finish_login(saml_response: str | None) -> SignIn:
    """Verify a POSTed SAMLResponse with pysaml2 and consume its outstanding request."""
    if not saml_response or len(saml_response) > MAX_RESPONSE_BYTES:
        raise SamlSignInError("no SAMLResponse, or one larger than accepted")
    try:
        xml = base64.b64decode(saml_response, validate=False)
    except (binascii.Error, ValueError):
        raise SamlSignInError("the SAMLResponse is not base64") from None
    request_id = _in_response_to(xml)
    outstanding = None
    if request_id:
        outstanding = db.session.get(SamlOutstandingRequest, request_id)
        if outstanding is not None and outstanding.created < utcnow() - OUTSTANDING_TTL:
            outstanding = None
    queries = {outstanding.request_id: outstanding.next_url} if outstanding else {}
    client = Saml2Client(config=_config())
    try:
        response = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding=queries)
    except Exception as exc:  # pysaml2 raises many types (signature, audience, time, unsolicited)
        db.session.rollback()
        raise SamlSignInError(f"{exc.__class__.__name__}: {exc}") from None
    if response is None or response.assertion is None:
        raise SamlSignInError("the response carries no usable assertion")
    # Consume the request: only one of several concurrent replays deletes the row.
    consumed = db.session.execute(
        sa.delete(SamlOutstandingRequest).where(SamlOutstandingRequest.request_id == request_id)
    )
    db.session.commit()
    if consumed.rowcount != 1:
        raise SamlSignInError(f"replayed response to request {request_id}")
    username = _username(response)
    if not username:
        raise SamlSignInError("the assertion carries no username (NameID or the configured attribute)")
    return SignIn(username=username, next_url=queries[request_id])


def _username(response) -> str | None:
    """The NameID, or the first value of the configured attribute, taken exactly as sent."""
    attribute = conf_store.get_str(USERNAME_ATTRIBUTE_KEY)
    if attribute:
        values = (response.ava or {}).get(attribute) or []
        return values[0] if values and isinstance(values[0], str) else None
    name_id = response.name_id
    return name_id.text if name_id is not None and name_id.text else None


def set_username_attribute(attribute: str | None) -> None:
    """Read usernames from an assertion attribute instead of the NameID (``None``: NameID)."""
    if attribute is not None and not attribute.strip():
        raise ValueError("the attribute name must not be empty")
    if attribute is None:
        conf_store.put_many({}, delete=(USERNAME_ATTRIBUTE_KEY,))
    else:
        conf_store.put(USERNAME_ATTRIBUTE_KEY, attribute.strip())
