"""SAML configuration: the prerequisite the reference puts before SCIM ("SAML must be configured as
the authentication method before enabling SCIM").

Only the configuration lives here (validated IdP metadata, entity ids, on/off); the sign-in flow
is built on top of it later. Metadata is parsed with pysaml2, so what we accept is what the SAML
flow will be able to use.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, SAMLError
from saml2.attribute_converter import ac_factory
from saml2.config import Config
from saml2.mdstore import MetadataStore
from saml2.s_utils import UnsupportedBinding

from scimgate.conf import keys as K
from scimgate.conf import store as conf_store
from scimgate.configuration_utils import ScimConfigurationError, check_if_scim_sync_is_enabled
from scimgate.logs import scim_logs as scim_logging

MAX_METADATA_BYTES = 1_000_000


class SamlConfigurationError(ScimConfigurationError):
    """The SAML metadata or settings were refused; the message says why."""


def parse_idp_metadata(idp_metadata: str) -> dict[str, Any]:
    """Return the IdP entity id, SSO endpoints and signing-certificate count, or refuse.

    The metadata must describe exactly one identity provider with a SingleSignOnService
    (HTTP-Redirect or HTTP-POST) and at least one signing certificate; otherwise the sign-in
    flow could not work and we say which part is missing.
    """
    if not isinstance(idp_metadata, str) or not idp_metadata.strip():
        raise SamlConfigurationError("the IdP metadata is empty; give the XML file your IdP publishes")
    if len(idp_metadata.encode("utf-8")) > MAX_METADATA_BYTES:
        raise SamlConfigurationError(f"the IdP metadata is larger than {MAX_METADATA_BYTES} bytes")
    store = MetadataStore(ac_factory(), Config())
    try:
        store.load("inline", idp_metadata)
    except (SAMLError, ValueError, SyntaxError) as exc:
        raise SamlConfigurationError(
            f"the IdP metadata is not valid SAML 2.0 metadata XML ({exc}); expected an "
            "<md:EntityDescriptor> with an <md:IDPSSODescriptor>"
        ) from None
    except Exception as exc:  # pysaml2 raises assorted types for malformed or expired documents
        raise SamlConfigurationError(f"the IdP metadata could not be read: {exc}") from None
    idps = store.identity_providers()
    if not idps:
        raise SamlConfigurationError(
            "the metadata has no identity provider: expected an EntityDescriptor with an entityID "
            "and an IDPSSODescriptor"
        )
    if len(idps) > 1:
        raise SamlConfigurationError(
            f"the metadata describes {len(idps)} identity providers; give the metadata of exactly one"
        )
    entity_id = idps[0]
    missing = []
    sso = []
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        try:
            services = store.single_sign_on_service(entity_id, binding) or []
        except UnsupportedBinding:  # pysaml2 raises when the IdP lacks this one binding
            services = []
        sso.extend(svc["location"] for svc in services)
    if not sso:
        missing.append("a SingleSignOnService with the HTTP-Redirect or HTTP-POST binding")
    certs = store.certs(entity_id, "idpsso", use="signing")
    if not certs:
        missing.append('a signing certificate (<md:KeyDescriptor use="signing"> with an X509Certificate)')
    if missing:
        raise SamlConfigurationError(f"the IdP metadata of {entity_id!r} lacks {' and '.join(missing)}")
    return {"entity_id": entity_id, "sso_urls": sso, "signing_certificates": len(certs)}


def _check_url(value: str, what: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SamlConfigurationError(f"{what} must be an absolute http(s) URL, got {value!r}")


def configure_saml(
    idp_metadata: str,
    sp_entity_id: str | None = None,
    base_url: str | None = None,
    allow_sha1: bool | None = None,
    idp_initiated: bool | None = None,
) -> None:
    """Validate and store the IdP metadata (and optionally our entity id and public base URL).

    ``allow_sha1`` lets responses signed with RSA-SHA1 (or with SHA-1 digests) in, for old IdPs
    that cannot sign with SHA-2; ``idp_initiated`` accepts sign-ins started on the IdP's dashboard
    (on unless turned off). ``None`` keeps the current choice of either.
    """
    try:
        info = parse_idp_metadata(idp_metadata)
        if base_url is not None:
            _check_url(base_url, "the base URL")
        if sp_entity_id is not None and not sp_entity_id.strip():
            raise SamlConfigurationError("the SP entity id must not be empty")
    except SamlConfigurationError as exc:
        scim_logging.config_error("configure_saml", str(exc))
        raise
    values: dict[str, Any] = {K.SAML_IDP_METADATA: idp_metadata, K.SAML_IDP_ENTITY_ID: info["entity_id"]}
    if sp_entity_id is not None:
        values[K.SAML_SP_ENTITY_ID] = sp_entity_id.strip()
    if base_url is not None:
        values[K.SAML_BASE_URL] = base_url.rstrip("/")
    if allow_sha1 is not None:
        values[K.SAML_ALLOW_SHA1] = bool(allow_sha1)
    if idp_initiated is not None:
        values[K.SAML_IDP_INITIATED] = bool(idp_initiated)
    conf_store.put_many(values, audit_action="saml.configured")
    scim_logging.lifecycle(
        "config.saml_configured",
        idp_entity_id=info["entity_id"],
        allow_sha1=conf_store.get_bool(K.SAML_ALLOW_SHA1, False),
        idp_initiated=conf_store.get_bool(K.SAML_IDP_INITIATED, True),
    )


def set_saml_options(allow_sha1: bool | None = None, idp_initiated: bool | None = None) -> None:
    """Change the options of the configured SAML without giving the metadata again."""
    if conf_store.get_str(K.SAML_IDP_METADATA) is None:
        message = "SAML is not configured; run `scimgate saml configure --idp-metadata FILE` first"
        scim_logging.config_error("configure_saml", message)
        raise SamlConfigurationError(message)
    values: dict[str, Any] = {}
    if allow_sha1 is not None:
        values[K.SAML_ALLOW_SHA1] = bool(allow_sha1)
    if idp_initiated is not None:
        values[K.SAML_IDP_INITIATED] = bool(idp_initiated)
    if values:
        conf_store.put_many(values, audit_action="saml.configured")
    scim_logging.lifecycle(
        "config.saml_options",
        allow_sha1=conf_store.get_bool(K.SAML_ALLOW_SHA1, False),
        idp_initiated=conf_store.get_bool(K.SAML_IDP_INITIATED, True),
    )


def enable_saml() -> None:
    """Make SAML the enabled authentication method; requires configured metadata."""
    if conf_store.get_str(K.SAML_IDP_METADATA) is None:
        message = "SAML is not configured; run `scimgate saml configure --idp-metadata FILE` first"
        scim_logging.config_error("enable_saml", message)
        raise SamlConfigurationError(message)
    conf_store.put(K.SAML_ENABLED, True, audit_action="saml.enabled")
    scim_logging.lifecycle("config.saml_enabled")


def disable_saml() -> None:
    """Turn SAML off; refused while SCIM sync is on, since SCIM requires SAML."""
    if check_if_scim_sync_is_enabled():
        message = "SCIM sync requires SAML; run `scimgate scim disable` before disabling SAML"
        scim_logging.config_error("disable_saml", message)
        raise SamlConfigurationError(message)
    conf_store.put(K.SAML_ENABLED, False, audit_action="saml.disabled")
    scim_logging.lifecycle("config.saml_disabled")


def get_saml_status() -> dict[str, Any]:
    """Return whether SAML is configured and enabled, with the entity ids and base URL."""
    metadata = conf_store.get_entry(K.SAML_IDP_METADATA)
    return {
        "configured": metadata is not None,
        "enabled": conf_store.get_bool(K.SAML_ENABLED, False),
        "idp_entity_id": conf_store.get_str(K.SAML_IDP_ENTITY_ID),
        "sp_entity_id": conf_store.get_str(K.SAML_SP_ENTITY_ID),
        "base_url": conf_store.get_str(K.SAML_BASE_URL),
        "allow_sha1": conf_store.get_bool(K.SAML_ALLOW_SHA1, False),
        "idp_initiated": conf_store.get_bool(K.SAML_IDP_INITIATED, True),
        "configured_at": metadata.updated_at.replace(microsecond=0).isoformat() + "Z" if metadata else None,
    }
