"""Settings every deployment starts from; the other classes override a few of them."""

from __future__ import annotations


class DefaultConfig:
    """Single-node defaults: embedded SQLite under ``site/``, logs under ``site/logs``."""

    SECRET_KEY = ""  # generated and kept in site/secret_key when empty (see scimgate.conf.secret_key)
    SQLALCHEMY_DATABASE_URI = "sqlite:///site/scimgate.db"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # psycopg prepares a statement on the server after its fifth run on a connection. A pooler in
    # transaction mode (PgBouncer before 1.21) hands the next transaction another server
    # connection, where that statement does not exist: set false behind such a pooler
    # (SCIMGATE_DATABASE_PREPARED_STATEMENTS=false; docs/deployment.md, PgBouncer).
    DATABASE_PREPARED_STATEMENTS = True
    LOG_DIR = "site/logs"
    # Create the secret key file, the log directory and its three files when the app is built (a
    # server). The `scimgate` command builds its app with False: `--help` and read-only commands
    # then create nothing in the working directory; a log file appears when first written, the key
    # file at the first request `scimgate run` serves.
    CREATE_FILES_AT_START = True
    LOG_LEVEL = "INFO"
    # Paging: RFC 7644 §3.4.2.4 lets the provider cap ``count``; /ServiceProviderConfig advertises it.
    SCIM_MAX_RESULTS = 1000
    SCIM_DEFAULT_COUNT = 100
    # A group PATCH answers 204 instead of the full group once it has more members (deactivated
    # ones count) than this: an IdP's one-member change must not cost a 100k-member response
    # (RFC 7644 §3.5.2).
    SCIM_PATCH_BODY_MAX_MEMBERS = 1000
    # A GET of a group with more active members than this streams its member list.
    SCIM_STREAM_MEMBERS_ABOVE = 5000
    # Largest request body accepted anywhere (413 above it); each route has a smaller cap below.
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    # Body caps per route (scimgate.body_limits): 413 before the body is read or authenticated.
    MAX_BODY_WEB = 64 * 1024  # sign-in and admin forms, the admin API
    # A SAML response posted to /saml/acs: saml_sp accepts 512,000 base64 characters, form-encoded.
    MAX_BODY_SAML = 640 * 1024
    SCIM_MAX_BODY_USER = 256 * 1024  # /Users writes and searches: a user is a few kilobytes
    SCIM_MAX_BODY_GROUP = 16 * 1024 * 1024  # /Groups: a PUT of a 100k-member group is about 6 MB
    SCIM_MAX_BODY_OTHER = 64 * 1024  # /.search, discovery and every other /scim/v2 path
    # Caps on what one SCIM request may carry (400 invalidValue above them, advertised in
    # /ServiceProviderConfig): values of one multi-valued user attribute (emails, phoneNumbers...),
    # group members named in one POST, PUT or PATCH, and PATCH operations.
    SCIM_MAX_MULTI_VALUES = 100
    SCIM_MAX_MEMBERS_PER_REQUEST = 100_000
    SCIM_MAX_PATCH_OPERATIONS = 1000
    # SAML sign-ins started (/saml/login, anonymous) and not yet answered that are kept; the oldest
    # go above it, so a flood of /saml/login stores a bounded amount.
    SAML_MAX_OUTSTANDING = 10_000
    # Failed SCIM authentications from one address: after AUTH_FAILURE_LIMIT within the window,
    # further failures get 429 with Retry-After for AUTH_BLOCK_SECONDS (0 disables throttling).
    AUTH_FAILURE_LIMIT = 10
    AUTH_FAILURE_WINDOW_SECONDS = 60
    AUTH_BLOCK_SECONDS = 60
    # Optional per-credential request rate limit (requests per minute; 0 = off).
    SCIM_RATE_LIMIT_PER_MINUTE = 0
    # Audit events older than this are pruned.
    AUDIT_RETENTION_DAYS = 365
    # Number of reverse proxies in front of scimgate whose X-Forwarded-* headers are trusted.
    PROXY_FIX_X_FOR = 0
    # Who may read /metrics (scimgate.health): loopback always; SCIMGATE_METRICS_ALLOW adds
    # addresses and networks (comma or space separated, e.g. "10.0.5.7, 10.1.0.0/16") as the app
    # sees them after PROXY_FIX_X_FOR; SCIMGATE_METRICS_TOKEN lets a scraper elsewhere in with
    # "Authorization: Bearer <token>" (its own secret, never a SCIM credential). Empty: neither.
    METRICS_ALLOW = ""
    METRICS_TOKEN = ""
    # How long a verified password is remembered (by digest) so argon2 does not run on every request.
    SCIM_AUTH_CACHE_SECONDS = 300
    # Cost of the argon2id password hashes (the SCIM basic-auth password, built-in accounts):
    # argon2-cffi's defaults, RFC 9106's low-memory profile: 3 passes over 64 MiB in 4 lanes. A hash
    # keeps its parameters, so changing them affects new hashes only (scimgate.conf.credentials).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536  # KiB
    ARGON2_PARALLELISM = 4
    # Public base URL used in `Location` and `$ref`; empty means "derive from the request".
    BASE_URL = ""
    # Where the docs/ folder is published (e.g. a repository's blob URL); the Authentication
    # page's set-up assistant links each IdP's docs/idp page there. Empty: the path is shown.
    DOCS_BASE_URL = ""
    # The development SAML identity provider is only ever offered by the development/testing classes.
    DEV_IDP_ENABLED = False
    # Browser sessions (server-side, shared by every node): they end at sign-out, this long after
    # sign-in however active, and after this long without a request.
    SESSION_LIFETIME_SECONDS = 8 * 3600
    SESSION_IDLE_TIMEOUT_SECONDS = 3600
    # Failed /login attempts: after the limit within the window, from one address or for one
    # username (known or not), /login answers 429 with Retry-After for LOGIN_BLOCK_SECONDS
    # before any password is checked (0 disables that counter).
    LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    LOGIN_FAILURE_LIMIT_PER_USERNAME = 5
    LOGIN_FAILURE_WINDOW_SECONDS = 900
    LOGIN_BLOCK_SECONDS = 300
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    JSON_SORT_KEYS = False
