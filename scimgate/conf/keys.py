"""Every SCIM/SAML configuration key in one place, with what ``scimgate conf`` may show of it.

Secrets (hashes, the token pepper) are listed so that ``scimgate conf`` can say whether and when
they were set without ever printing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Display = Literal["plain", "secret", "size"]


@dataclass(frozen=True)
class KeyInfo:
    """A configuration key, what it means, and how it may be displayed."""

    name: str
    description: str
    display: Display = "plain"


SCIM_CLIENT = "scim.client"
SCIM_SYNC_ENABLED = "scim.sync_enabled"
BASIC_USERNAME = "scim.basic_auth.username"
BASIC_PASSWORD_HASH = "scim.basic_auth.password_hash"
TOKEN_HASH = "scim.token.hash"
TOKEN_CREATED = "scim.token.created"
TOKEN_EXPIRES = "scim.token.expires"
TOKEN_FINGERPRINT = "scim.token.fingerprint"
TOKEN_REVOKED_HASHES = "scim.token.revoked_hashes"
TOKEN_PEPPER = "scim.token.pepper"
SAML_IDP_METADATA = "saml.idp_metadata"
SAML_IDP_ENTITY_ID = "saml.idp_entity_id"
SAML_SP_ENTITY_ID = "saml.sp_entity_id"
SAML_BASE_URL = "saml.base_url"
SAML_ENABLED = "saml.enabled"
SAML_ALLOW_SHA1 = "saml.allow_sha1"
SAML_IDP_INITIATED = "saml.idp_initiated"

KEYS: tuple[KeyInfo, ...] = (
    KeyInfo(SCIM_CLIENT, "SCIM client (identity provider) allowed to push users and groups"),
    KeyInfo(SCIM_SYNC_ENABLED, "whether /scim/v2 accepts requests"),
    KeyInfo(BASIC_USERNAME, "basic authentication username of the SCIM service account"),
    KeyInfo(BASIC_PASSWORD_HASH, "argon2 hash of the basic authentication password", "secret"),
    KeyInfo(TOKEN_HASH, "keyed hash (HMAC-SHA256) of the current bearer token", "secret"),
    KeyInfo(TOKEN_CREATED, "when the current bearer token was generated (UTC)"),
    KeyInfo(TOKEN_EXPIRES, "when the current bearer token expires (UTC)"),
    KeyInfo(TOKEN_FINGERPRINT, "short non-secret fingerprint of the current bearer token"),
    KeyInfo(TOKEN_REVOKED_HASHES, "keyed hashes of replaced tokens (to log 'revoked token')", "secret"),
    KeyInfo(TOKEN_PEPPER, "server secret keying the token hash", "secret"),
    KeyInfo(SAML_IDP_METADATA, "SAML identity provider metadata XML", "size"),
    KeyInfo(SAML_IDP_ENTITY_ID, "SAML identity provider entity id (from the metadata)"),
    KeyInfo(SAML_SP_ENTITY_ID, "SAML service provider entity id of scimgate"),
    KeyInfo(SAML_BASE_URL, "public base URL used for SAML endpoints"),
    KeyInfo(SAML_ENABLED, "whether SAML is the enabled authentication method"),
    KeyInfo(SAML_ALLOW_SHA1, "whether SAML responses signed with RSA-SHA1 (SHA-1 digests) are accepted"),
    KeyInfo(SAML_IDP_INITIATED, "whether IdP-initiated SAML sign-in (from the IdP dashboard) is accepted"),
)

BY_NAME: dict[str, KeyInfo] = {info.name: info for info in KEYS}
