"""scimgate as a SAML 2.0 service provider (pysaml2), built from the stored SAML configuration.

Most of what the security of sign-in rests on is checked by pysaml2, configured strictly: the
assertion must be signed by the certificate in the IdP metadata (``want_assertions_signed``), be
addressed to our ACS URL (destination), name our entity id (audience), be inside its validity
window, and answer an AuthnRequest we sent. The "requests we sent" live in the database
(``saml_outstanding_request``), not in process memory, and a response consumes its row.

A response without ``InResponseTo`` is IdP-initiated (the user chose the app on the IdP's
dashboard). It is accepted only while ``saml.idp_initiated`` is on (the default, as the reference
lets users "log in from their IdP dashboard"), with every check above except the request, and the
web layer asks the user to confirm it (``scimgate.web.saml_unsolicited``, against login CSRF).

What pysaml2 does not check by default is checked here: the response must answer a request
started by the browser posting it (``scimgate.web.saml_binding``), the bearer confirmation's
``Recipient`` must be our ACS URL, a signed response must carry a ``Destination``, the signature
and digest algorithms must be SHA-2 (SHA-1 only when an admin allowed it), the response and the
assertion must have been issued within the last ``SAML_MAX_AGE_SECONDS`` (5 minutes by default,
plus the clock skew allowance), and each assertion signs in once (``scimgate.signin.saml_replay``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from defusedxml import ElementTree
from flask import current_app, has_request_context, request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED, SCM_BEARER
from saml2.time_util import str_to_time
from sqlalchemy.exc import IntegrityError

from scimgate.conf import keys as K
from scimgate.conf import store as conf_store
from scimgate.extensions import db
from scimgate.logs import audit
from scimgate.models import SamlOutstandingRequest, utcnow
from scimgate.signin import local_redirect, saml_replay

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from saml2.response import AuthnResponse

USERNAME_ATTRIBUTE_KEY = "saml.username_attribute"
OUTSTANDING_TTL = dt.timedelta(minutes=10)
# Anonymous /saml/login requests each store a row for OUTSTANDING_TTL: above this many rows the
# oldest go (their sign-ins must start again), so a flood stores a bounded amount.
OUTSTANDING_MAX_DEFAULT = 10_000
CLOCK_SKEW_SECONDS = 60
# How old a response or assertion may be (IssueInstant), on top of the clock skew allowance; the
# app setting SAML_MAX_AGE_SECONDS overrides it.
MAX_AGE_SECONDS_DEFAULT = 300
MAX_RESPONSE_BYTES = 512_000
NEXT_URL_MAX: int = SamlOutstandingRequest.__table__.c.next_url.type.length
_PROTOCOL_NS = "{urn:oasis:names:tc:SAML:2.0:protocol}"
_DSIG_NS = "{http://www.w3.org/2000/09/xmldsig#}"
_SHA2_SIGNATURES = frozenset(
    "http://www.w3.org/2001/04/xmldsig-more#" + name
    for name in ("rsa-sha256", "rsa-sha384", "rsa-sha512", "ecdsa-sha256", "ecdsa-sha384", "ecdsa-sha512")
)
_SHA2_DIGESTS = frozenset(
    (
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    )
)
_SHA1_SIGNATURES = frozenset(("http://www.w3.org/2000/09/xmldsig#rsa-sha1",))
_SHA1_DIGESTS = frozenset(("http://www.w3.org/2000/09/xmldsig#sha1",))


class SamlSignInError(Exception):
    """A SAML response was refused; ``reason`` is for the log, never shown verbatim to users.

    ``page`` names the refusal page: ``invalid`` (not verifiable) or ``bad_username`` (verified,
    but it carries no username).
    """

    def __init__(self, reason: str, page: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.page = page


@dataclass(frozen=True)
class StartedLogin:
    """An AuthnRequest on its way: its id (to bind to the browser) and the IdP redirect URL."""

    request_id: str
    redirect_url: str


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


def idp_initiated_allowed() -> bool:
    """Whether IdP-initiated (unsolicited) responses are accepted (``saml.idp_initiated``, default on)."""
    return conf_store.get_bool(K.SAML_IDP_INITIATED, True)


def max_age() -> dt.timedelta:
    """How old a response's or assertion's IssueInstant may be (before the clock skew allowance)."""
    return dt.timedelta(seconds=int(current_app.config.get("SAML_MAX_AGE_SECONDS", MAX_AGE_SECONDS_DEFAULT)))


def _config(allow_unsolicited: bool = False) -> SPConfig:
    urls = sp_urls()
    settings = {
        "entityid": urls.entity_id,
        "metadata": {"inline": [conf_store.get_str(K.SAML_IDP_METADATA)]},
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(urls.acs_url, BINDING_HTTP_POST)]},
                "allow_unsolicited": allow_unsolicited,
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


def safe_next(next_url: str | None, default: str = "/") -> str:
    """Keep only a local path, so a sign-in can never redirect to another site.

    It is also stored with the outstanding request and sent back in a ``Location`` header, so a
    path longer than its column (an anonymous client chooses it) becomes ``/`` too; control
    characters never pass ``local_target``.
    """
    if next_url and len(next_url) > NEXT_URL_MAX:
        return default
    return local_redirect.local_target(next_url, default)


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


def start_login(next_url: str | None) -> StartedLogin:
    """Create an AuthnRequest, remember its id in the database, return it with the IdP URL."""
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
    return StartedLogin(request_id, dict(info["headers"])["Location"])


def _parse(xml: bytes) -> Element:
    """Parse the (not yet verified) Response, to find its request and check its algorithms."""
    try:
        root = ElementTree.fromstring(xml, forbid_dtd=True)
    except Exception:
        raise SamlSignInError("the SAMLResponse is not well-formed XML") from None
    if root.tag != f"{_PROTOCOL_NS}Response":
        raise SamlSignInError("the SAMLResponse is not a samlp:Response")
    return root


def _check_algorithms(root: Element) -> None:
    """Refuse signatures or digests other than SHA-2 (SHA-1 too when an admin allowed it).

    pysaml2 lets xmlsec1 accept whatever algorithm the document names; RSA-SHA1 is still sent
    by some old IdPs, so ``scimgate saml configure --allow-sha1`` can let it through.
    """
    allow_sha1 = conf_store.get_bool(K.SAML_ALLOW_SHA1, False)
    signatures = _SHA2_SIGNATURES | (_SHA1_SIGNATURES if allow_sha1 else frozenset())
    digests = _SHA2_DIGESTS | (_SHA1_DIGESTS if allow_sha1 else frozenset())
    for tag, accepted, what in (
        ("SignatureMethod", signatures, "signature"),
        ("DigestMethod", digests, "digest"),
    ):
        for element in root.iter(f"{_DSIG_NS}{tag}"):
            algorithm = element.get("Algorithm") or ""
            if algorithm not in accepted:
                hint = (
                    " (allow SHA-1 with `scimgate saml configure --allow-sha1`)"
                    if "sha1" in algorithm
                    else ""
                )
                raise SamlSignInError(f"the {what} algorithm {algorithm!r} is not accepted{hint}")


def _check_addressing(response: AuthnResponse, acs_url: str, solicited: bool) -> None:
    """Checks pysaml2 skips: a signed Response names its Destination, and every bearer
    confirmation's Recipient is our ACS URL (SAML profiles 4.1.4.2, bindings 3.5.5.2).

    An unsolicited Response must not carry an assertion that answers a request: with only the
    assertion signed, that would be a solicited answer whose ``InResponseTo`` was stripped from
    the unsigned envelope to skip the browser binding.
    """
    message = response.response
    if message.signature is not None and not message.destination:
        raise SamlSignInError("the response is signed but has no Destination")
    subject = response.assertion.subject
    confirmations = (subject.subject_confirmation if subject is not None else None) or []
    bearers = [confirmation for confirmation in confirmations if confirmation.method == SCM_BEARER]
    if not bearers:
        raise SamlSignInError("the assertion has no bearer SubjectConfirmation")
    for confirmation in bearers:
        data = confirmation.subject_confirmation_data
        recipient = data.recipient if data is not None else None
        if not solicited and data is not None and data.in_response_to:
            raise SamlSignInError(
                f"the response has no InResponseTo but its assertion answers request "
                f"{data.in_response_to[:100]!r}"
            )
        if recipient != acs_url:
            raise SamlSignInError(
                f"the SubjectConfirmationData Recipient {recipient!r} is not our ACS {acs_url!r}"
            )


def _instant(value: str | None, what: str) -> dt.datetime:
    """A SAML dateTime as naive UTC (as ``utcnow``), or refuse the response."""
    if not value:
        raise SamlSignInError(f"the {what} has no IssueInstant")
    try:
        return dt.datetime(*str_to_time(value)[:6])
    except (ValueError, TypeError):
        raise SamlSignInError(f"the {what} time {value[:60]!r} is not a SAML dateTime") from None


def _check_age(response: AuthnResponse) -> dt.datetime:
    """Refuse a response or assertion issued too long ago (or in the future); return until when
    the assertion could be accepted, which is how long its id must be remembered.

    The AuthnInstant is not bounded: it is when the user last authenticated at the IdP, which for
    single sign-on (a dashboard session opened in the morning) is legitimately hours ago.
    """
    now = utcnow()
    skew = dt.timedelta(seconds=CLOCK_SKEW_SECONDS)
    oldest_accepted = now - max_age() - skew
    assertion = response.assertion
    instants = (("response", response.response.issue_instant), ("assertion", assertion.issue_instant))
    for what, value in instants:
        issued = _instant(value, what)
        if issued > now + skew:
            raise SamlSignInError(f"the {what} IssueInstant {value} is in the future (clock skew?)")
        if issued < oldest_accepted:
            raise SamlSignInError(
                f"the {what} IssueInstant {value} is older than the maximum age of "
                f"{int(max_age().total_seconds())} s (plus {CLOCK_SKEW_SECONDS} s of clock skew): "
                "a stale or replayed response"
            )
    expires = _instant(assertion.issue_instant, "assertion") + max_age()
    limits = [assertion.conditions.not_on_or_after if assertion.conditions is not None else None]
    for confirmation in assertion.subject.subject_confirmation or []:
        data = confirmation.subject_confirmation_data
        limits.append(data.not_on_or_after if data is not None else None)
    for limit in filter(None, limits):
        expires = min(expires, _instant(limit, "NotOnOrAfter"))
    return expires + skew


def _replayed(assertion_id: str) -> str:
    return f"replayed assertion {assertion_id[:100]!r} (already used to sign in)"


def _use_once(response: AuthnResponse, request_id: str | None, expires: dt.datetime) -> None:
    """Record the assertion as used and consume the request it answers, in one transaction."""
    assertion_id = response.assertion.id or ""
    if not assertion_id or len(assertion_id) > saml_replay.ID_MAX:
        db.session.rollback()
        raise SamlSignInError("the assertion has no ID, or one longer than accepted")
    try:
        saml_replay.remember(assertion_id, expires)
    except saml_replay.AssertionAlreadyUsed:
        raise SamlSignInError(_replayed(assertion_id)) from None
    if request_id:
        # Only one of several concurrent replays deletes the row.
        consumed = db.session.execute(
            sa.delete(SamlOutstandingRequest).where(SamlOutstandingRequest.request_id == request_id)
        )
        if consumed.rowcount != 1:
            db.session.rollback()
            raise SamlSignInError(f"replayed response to request {request_id}")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SamlSignInError(_replayed(assertion_id)) from None


@dataclass(frozen=True)
class SignIn:
    """A verified sign-in: the username, where to go next, and whether we asked for it."""

    username: str
    next_url: str
    solicited: bool = True


def finish_login(
    saml_response: str | None,
    started_here: Callable[[str], bool],
    relay_state: str | None = None,
    default_next: str = "/",
) -> SignIn:
    """Verify a POSTed SAMLResponse, consume its outstanding request and its assertion id.

    ``started_here(request_id)`` says whether the posting browser started that request (the web
    layer asks its binding cookie): a response answering a request that another browser started
    is refused before anything is consumed. An unsolicited response (no ``InResponseTo``) goes to
    ``relay_state`` when that is a local path, else to ``default_next``; the caller must have the
    user confirm it.
    """
    if not saml_response or len(saml_response) > MAX_RESPONSE_BYTES:
        raise SamlSignInError("no SAMLResponse, or one larger than accepted")
    try:
        xml = base64.b64decode(saml_response, validate=False)
    except (binascii.Error, ValueError):
        raise SamlSignInError("the SAMLResponse is not base64") from None
    root = _parse(xml)
    request_id = root.get("InResponseTo")
    if not request_id and not idp_initiated_allowed():
        raise SamlSignInError(
            "IdP-initiated sign-in (a response without InResponseTo) is turned off "
            "(`scimgate saml configure --idp-initiated` turns it on)",
            "idp_initiated_off",
        )
    if request_id and not started_here(request_id):
        raise SamlSignInError(
            f"the response answers request {request_id[:100]!r}, which this browser did not start "
            "(no or another sign-in cookie: login CSRF, or the cookie was lost on plain http)"
        )
    _check_algorithms(root)
    destination, acs_url = root.get("Destination"), sp_urls().acs_url
    if destination and destination != acs_url:  # pysaml2 refuses it too, but without saying why
        raise SamlSignInError(f"the response Destination {destination[:200]!r} is not our ACS {acs_url!r}")
    outstanding = None
    if request_id:
        outstanding = db.session.get(SamlOutstandingRequest, request_id)
        if outstanding is not None and outstanding.created < utcnow() - OUTSTANDING_TTL:
            outstanding = None
    queries = {outstanding.request_id: outstanding.next_url} if outstanding else {}
    client = Saml2Client(config=_config(allow_unsolicited=not request_id))
    try:
        response = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding=queries)
    except Exception as exc:  # pysaml2 raises many types (signature, audience, time, unsolicited)
        db.session.rollback()
        hint = " (outside the assertion's NotBefore/NotOnOrAfter window?)" if "Condition" in str(exc) else ""
        raise SamlSignInError(f"{exc.__class__.__name__}: {exc}{hint}") from None
    if response is None or response.assertion is None:
        raise SamlSignInError("the response carries no usable assertion")
    _check_addressing(response, sp_urls().acs_url, solicited=bool(request_id))
    _use_once(response, request_id, _check_age(response))
    username = _username(response)
    if not username:
        attribute = conf_store.get_str(USERNAME_ATTRIBUTE_KEY)
        source = f"attribute {attribute!r}" if attribute else "NameID"
        raise SamlSignInError(f"the assertion carries no username (no or an empty {source})", "bad_username")
    if request_id:
        return SignIn(username=username, next_url=queries[request_id])
    return SignIn(username=username, next_url=safe_next(relay_state, default_next), solicited=False)


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
        conf_store.put_many(
            {}, delete=(USERNAME_ATTRIBUTE_KEY,), record=audit.conf_change("saml.username_attribute_set")
        )
    else:
        conf_store.put(
            USERNAME_ATTRIBUTE_KEY, attribute.strip(), record=audit.conf_change("saml.username_attribute_set")
        )
