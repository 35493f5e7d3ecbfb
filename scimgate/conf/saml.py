"""SAML configuration: the prerequisite the reference puts before SCIM ("SAML must be configured as
the authentication method before enabling SCIM").

Only the reads and the metadata check live here (validated IdP metadata, entity ids, on/off); the
writes (``configure_saml``, ``enable_saml``, ...) are in ``scimgate.configuration_utils``, which
validates, records the audit and logs; the sign-in flow is built on top in ``scimgate.signin``.
Metadata is parsed with pysaml2, so what we accept is what the SAML flow will be able to use.
"""

from __future__ import annotations

from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, SAMLError
from saml2.attribute_converter import ac_factory
from saml2.config import Config
from saml2.mdstore import MetadataStore
from saml2.s_utils import UnsupportedBinding

from scimgate.conf import keys as K
from scimgate.conf import store as conf_store
from scimgate.conf.errors import ScimConfigurationError

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
