"""Settings every deployment starts from; the other classes override a few of them."""

from __future__ import annotations


class DefaultConfig:
    """Single-node defaults: embedded SQLite under ``site/``, logs under ``site/logs``."""

    SECRET_KEY = ""  # generated and kept in site/secret_key when empty (see scimgate.secret_key)
    SQLALCHEMY_DATABASE_URI = "sqlite:///site/scimgate.db"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    LOG_DIR = "site/logs"
    LOG_LEVEL = "INFO"
    # Paging: RFC 7644 §3.4.2.4 lets the provider cap ``count``; /ServiceProviderConfig advertises it.
    SCIM_MAX_RESULTS = 1000
    SCIM_DEFAULT_COUNT = 100
    # A group PATCH answers 204 instead of the full group once it has more active members than
    # this: an IdP's one-member change must not cost a 100k-member response (RFC 7644 §3.5.2).
    SCIM_PATCH_BODY_MAX_MEMBERS = 1000
    # How long a verified password is remembered (by digest) so argon2 does not run on every request.
    SCIM_AUTH_CACHE_SECONDS = 300
    # Public base URL used in `Location` and `$ref`; empty means "derive from the request".
    BASE_URL = ""
    # The development SAML identity provider is only ever offered by the development/testing classes.
    DEV_IDP_ENABLED = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    JSON_SORT_KEYS = False
