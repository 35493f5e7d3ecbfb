"""The reference's SCIM configuration functions, with the same names and meaning.

Each function works inside an app context (``scimgate shell`` pre-imports them) and validates its
input: a bad value raises ``ScimConfigurationError`` whose message says what is wrong and what is
allowed, and the refusal is written to scim-info.log. Secrets are stored only as hashes and no
function ever returns one; ``generate_scim_bearer_token`` returns the new token exactly once.

This is the façade: it validates, writes (recording each write in the audit trail, in the write's
transaction) and runs the preflight, so it sits above ``scimgate.services`` and
``scimgate.accounts`` and nothing below imports it. The per-request reads live beside their
storage in ``scimgate.conf.scim`` and are re-exported here under the reference's names
(``get_scim_client``, ``is_scim_client_chosen``, ``check_if_scim_sync_is_enabled``); the SAML
reads and the metadata check are in ``scimgate.conf.saml``, the SAML writes here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from dateutil.relativedelta import relativedelta

from scimgate.accounts import settings, users
from scimgate.conf import credentials, token_expiry
from scimgate.conf import keys as K
from scimgate.conf import saml as saml_config
from scimgate.conf import store as conf_store
from scimgate.conf.credentials import PASSWORD_RULES, password_problems
from scimgate.conf.errors import ScimConfigurationError
from scimgate.conf.saml import SamlConfigurationError, parse_idp_metadata
from scimgate.conf.scim import DEFAULT_CLIENT, check_if_scim_sync_is_enabled, get_scim_client
from scimgate.conf.scim import is_scim_client_chosen as is_scim_client_chosen
from scimgate.extensions import db
from scimgate.logs import audit
from scimgate.logs import scim_logs as scim_logging
from scimgate.models import USERNAME_MAX, ScimGroup, ScimUser, utcnow
from scimgate.plugin_host import get_host, known_clients

P = ParamSpec("P")
R = TypeVar("R")

TOKEN_MIN_MONTHS = 1
TOKEN_MAX_MONTHS = 6


def _logged(func: Callable[P, R]) -> Callable[P, R]:
    """Write every refusal to scim-info.log (the reference's "configuration errors")."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ScimConfigurationError as exc:
            scim_logging.config_error(func.__name__, str(exc))
            raise

    return wrapper


# --- client -------------------------------------------------------------------------------------


def pushed_record_counts(other_than: str | None = None) -> tuple[int, int]:
    """Count SCIM user and group links, optionally only those pushed by another client."""
    users = db.select(db.func.count()).select_from(ScimUser)
    groups = db.select(db.func.count()).select_from(ScimGroup)
    if other_than is not None:
        users = users.where(ScimUser.client != other_than)
        groups = groups.where(ScimGroup.client != other_than)
    return db.session.scalar(users) or 0, db.session.scalar(groups) or 0


@_logged
def update_scim_client(name: str) -> None:
    """Choose the SCIM client (IdP); refuse to switch while another client's records exist."""
    clients = known_clients()
    if not isinstance(name, str) or name not in clients:
        raise ScimConfigurationError(f"unknown SCIM client {name!r}; valid clients are: {', '.join(clients)}")
    current = conf_store.get_str(K.SCIM_CLIENT)
    if current == name:
        return
    users, groups = pushed_record_counts(other_than=name)
    if users or groups:
        raise ScimConfigurationError(
            f"cannot switch the SCIM client from {current or DEFAULT_CLIENT!r} to {name!r}: "
            f"{users} user(s) and {groups} group(s) pushed by the previous client still exist; "
            "run `scimgate scim cleanup` first"
        )
    conf_store.put(K.SCIM_CLIENT, name, record=audit.conf_change("scim.client_changed"))
    scim_logging.lifecycle("config.client_set", client=name, previous=current)


# --- basic authentication -----------------------------------------------------------------------

_USERNAME_FORBIDDEN = re.compile(r"[:\x00-\x1f\x7f]")


@_logged
def set_scim_basic_auth_username(username: str) -> None:
    """Set the basic-auth username of the SCIM service account (not an application user)."""
    _refuse_bad_username(username)
    conf_store.put(K.BASIC_USERNAME, username, record=audit.conf_change("scim.basic_auth_username_set"))
    scim_logging.lifecycle("config.basic_username_set", username=username)


def _refuse_bad_username(username: str) -> None:
    if not isinstance(username, str) or not username.strip():
        raise ScimConfigurationError("the basic auth username must be a non-empty string")
    if username != username.strip() or _USERNAME_FORBIDDEN.search(username):
        raise ScimConfigurationError(
            "the basic auth username must not contain ':', control characters, "
            "or leading/trailing spaces (RFC 7617)"
        )
    if len(username) > USERNAME_MAX:
        raise ScimConfigurationError(f"the basic auth username must be at most {USERNAME_MAX} characters")


def _refuse_bad_password(password: str) -> None:
    if not isinstance(password, str):
        raise ScimConfigurationError(f"the basic auth password must be a string; {PASSWORD_RULES}")
    problems = password_problems(password)
    if problems:
        raise ScimConfigurationError(
            f"password refused: {'; '.join(problems)}. The password must be {PASSWORD_RULES}"
        )


@_logged
def check_scim_basic_auth_password(password: str) -> None:
    """Raise unless ``password`` meets the reference's policy (the message never contains it)."""
    _refuse_bad_password(password)


@_logged
def set_scim_basic_auth_password(password: str) -> None:
    """Store the argon2 hash of the basic-auth password after checking the reference's policy."""
    _refuse_bad_password(password)
    hashed = credentials.hash_password(password)
    conf_store.put(K.BASIC_PASSWORD_HASH, hashed, record=audit.conf_change("scim.basic_auth_password_set"))
    scim_logging.lifecycle("config.basic_password_set")


@_logged
def set_scim_basic_auth(username: str, password: str) -> None:
    """Set the basic-auth username and password together: one change, one audit event (what
    ``scimgate scim set-basic-auth`` runs); refused as a whole when either is refused."""
    _refuse_bad_password(password)
    _refuse_bad_username(username)
    conf_store.put_many(
        {K.BASIC_USERNAME: username, K.BASIC_PASSWORD_HASH: credentials.hash_password(password)},
        record=audit.conf_change("scim.basic_auth_set"),
    )
    scim_logging.lifecycle("config.basic_username_set", username=username)
    scim_logging.lifecycle("config.basic_password_set")


def get_scim_basic_auth_info() -> dict[str, Any]:
    """Return the username and whether/when a password was set; never the password."""
    password = conf_store.get_entry(K.BASIC_PASSWORD_HASH)
    return {
        "username": conf_store.get_str(K.BASIC_USERNAME),
        "password_set": password is not None,
        "password_set_at": _iso(password.updated_at) if password else None,
    }


# --- bearer token -------------------------------------------------------------------------------


@_logged
def generate_scim_bearer_token(months: int) -> str:
    """Create a token valid ``months`` (1-6) months, revoke the previous one, return it once."""
    if isinstance(months, bool) or not isinstance(months, int):
        raise ScimConfigurationError(
            f"months must be a whole number from {TOKEN_MIN_MONTHS} to {TOKEN_MAX_MONTHS}, got {months!r}"
        )
    if not TOKEN_MIN_MONTHS <= months <= TOKEN_MAX_MONTHS:
        raise ScimConfigurationError(
            f"a token can be valid from {TOKEN_MIN_MONTHS} to {TOKEN_MAX_MONTHS} months, got {months}"
        )
    pepper = conf_store.get_str(K.TOKEN_PEPPER) or credentials.new_pepper()
    token = credentials.new_token()
    created = utcnow()
    revoked = list(conf_store.get(K.TOKEN_REVOKED_HASHES, []) or [])
    previous = conf_store.get_str(K.TOKEN_HASH)
    if previous:
        revoked = [previous, *revoked][: credentials.REVOKED_KEPT]
    fingerprint = credentials.token_fingerprint(token)
    previous_fingerprint = conf_store.get_str(K.TOKEN_FINGERPRINT) if previous else None
    expires = created + relativedelta(months=months)
    conf_store.put_many(
        {
            K.TOKEN_PEPPER: pepper,
            K.TOKEN_HASH: credentials.token_hash(pepper, token),
            K.TOKEN_CREATED: conf_store.encode_datetime(created),
            K.TOKEN_EXPIRES: conf_store.encode_datetime(expires),
            K.TOKEN_FINGERPRINT: fingerprint,
            K.TOKEN_REVOKED_HASHES: revoked,
        },
        # The fingerprints only: the token is never stored, its hash and the pepper never shown.
        record=audit.conf_change(
            "scim.token_generated",
            target="scim.token",
            changes={
                "fingerprint": (previous_fingerprint, fingerprint),
                "revoked_fingerprint": previous_fingerprint,
                "months": months,
                "expires": conf_store.encode_datetime(expires),
            },
        ),
    )
    scim_logging.lifecycle("config.token_generated", fingerprint=fingerprint, months=months)
    return token


def get_scim_bearer_token() -> dict[str, Any]:
    """Return created/expires and a short fingerprint of the token; never the token itself."""
    created = conf_store.get_datetime(K.TOKEN_CREATED)
    expires = conf_store.get_datetime(K.TOKEN_EXPIRES)
    configured = conf_store.get_str(K.TOKEN_HASH) is not None
    expiry = token_expiry.current() if configured else None
    return {
        "configured": configured,
        "fingerprint": conf_store.get_str(K.TOKEN_FINGERPRINT) if configured else None,
        "created": _iso(created),
        "expires": _iso(expires),
        "expired": bool(configured and expires is not None and expires <= utcnow()),
        # "expired on / expires on <date> (in N days) / valid until <date>" (token_expiry.WARN_DAYS)
        "state": token_expiry.describe(expiry) if expiry else "",
        "expiring": bool(expiry and expiry.expiring),
    }


# --- can the client authenticate? ---------------------------------------------------------------

_SCHEME_NAMES = {"bearer": "a bearer token", "basic": "basic authentication"}
_SCHEME_COMMANDS = {
    "bearer": "`scimgate scim generate-token --months N`",
    "basic": "`scimgate scim set-basic-auth --username NAME`",
}


@dataclass(frozen=True)
class AuthStatus:
    """Which credentials are set, which schemes the client's plugin accepts, and so whether the
    client can authenticate at all: the one answer the preflight, ``scimgate scim status`` and
    the Authentication page share (none of them may say OK for a set-up that gets only 401s)."""

    client: str
    accepted: tuple[str, ...]
    basic_username: bool
    basic_password: bool
    token_configured: bool
    token_expired: bool

    @property
    def basic_set(self) -> bool:
        return self.basic_username and self.basic_password

    @property
    def token_valid(self) -> bool:
        return self.token_configured and not self.token_expired

    @property
    def usable(self) -> tuple[str, ...]:
        """The schemes that are both configured and accepted by the client."""
        ready = {"bearer": self.token_valid, "basic": self.basic_set}
        return tuple(scheme for scheme in self.accepted if ready.get(scheme))

    @property
    def ok(self) -> bool:
        return bool(self.usable)

    def problem(self) -> str | None:
        """What to fix so the client can authenticate (None when it can); never a secret."""
        if self.ok:
            return None
        hint = ""
        if self.basic_username and not self.basic_password and "basic" in self.accepted:
            hint = " (a basic auth username is set but no password)"
        elif self.token_configured and self.token_expired and "bearer" in self.accepted:
            hint = " (the bearer token has expired)"
        known = [s for s in self.accepted if s in _SCHEME_NAMES]
        if not known:
            return f"the SCIM client {self.client} accepts no authentication scheme scimgate offers"
        if set(_SCHEME_NAMES) <= set(known):
            return (
                "no SCIM credential is set" + hint + " (run `scimgate scim set-basic-auth --username NAME` "
                "or `scimgate scim generate-token --months N`)"
            )
        unusable = [name for s, name in _SCHEME_NAMES.items() if s not in known]
        refused = ""
        if ("basic" not in known and self.basic_set) or ("bearer" not in known and self.token_valid):
            refused = f"; the {' and '.join(unusable)} set here cannot be used by it"
        return (
            f"the SCIM client {self.client} accepts only {' or '.join(_SCHEME_NAMES[s] for s in known)}"
            f"{hint}{refused} (run {' or '.join(_SCHEME_COMMANDS[s] for s in known)})"
        )


def accepted_auth_schemes(client: str | None = None) -> tuple[str, ...]:
    """The schemes the client's plugin accepts (``scimgate_auth_schemes``; both by default)."""
    return get_host().hooks_for(client or get_scim_client()).auth_schemes()


def auth_status() -> AuthStatus:
    """Whether the configured client can authenticate with the credentials set now."""
    basic = get_scim_basic_auth_info()
    token = get_scim_bearer_token()
    client = get_scim_client()
    return AuthStatus(
        client=client,
        accepted=accepted_auth_schemes(client),
        basic_username=bool(basic["username"]),
        basic_password=bool(basic["password_set"]),
        token_configured=bool(token["configured"]),
        token_expired=bool(token["expired"]),
    )


# --- sync lifecycle -----------------------------------------------------------------------------


def sync_preflight_problems() -> list[str]:
    """Return everything that must be fixed before sync can be enabled (empty when ready)."""
    problems = []
    saml = saml_config.get_saml_status()
    if not saml["configured"]:
        problems.append("SAML is not configured (run `scimgate saml configure --idp-metadata FILE`)")
    if not saml["enabled"]:
        problems.append("SAML is not enabled (run `scimgate saml enable`)")
    auth_problem = auth_status().problem()
    if auth_problem:
        problems.append(auth_problem)
    problem = _custom_group_admin_problem()
    if problem:
        problems.append(problem)
    return problems


def _custom_group_admin_problem() -> str | None:
    """The reference's prerequisite 4: with "Use Custom Groups to Assign User Roles" on, some
    active Server Admin must keep that role through a custom (application-defined) group, or
    nobody could administer the application once SCIM owns the directory."""
    if not settings.stored("groups_assign_roles"):
        return None
    if users.active_server_admins(through="app_group"):
        return None
    return (
        '"Use Custom Groups to Assign User Roles" is on but no active user is Server Admin through '
        "a custom group (map the Server Admin role to an application-defined group containing the "
        "admin who will test the SCIM set-up: `PUT /api/v1/groups/ID/role`)"
    )


@_logged
def enable_scim_user_and_group_sync() -> None:
    """Turn sync on after a preflight; refuse listing everything that is missing."""
    problems = sync_preflight_problems()
    if problems:
        raise ScimConfigurationError("cannot enable SCIM sync: " + "; ".join(problems))
    conf_store.put(K.SCIM_SYNC_ENABLED, True, record=audit.conf_change("scim.sync_enabled"))
    scim_logging.lifecycle("config.sync_enabled", client=get_scim_client())


def disable_sync_from_directory_provider() -> None:
    """Turn sync off; synced users and groups are kept unchanged (the reference)."""
    conf_store.put(K.SCIM_SYNC_ENABLED, False, record=audit.conf_change("scim.sync_disabled"))
    scim_logging.lifecycle("config.sync_disabled")


# --- SAML (the reference's prerequisite: "SAML must be configured ... before enabling SCIM") ------


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
    conf_store.put_many(values, record=audit.conf_change("saml.configured"))
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
        conf_store.put_many(values, record=audit.conf_change("saml.configured"))
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
    conf_store.put(K.SAML_ENABLED, True, record=audit.conf_change("saml.enabled"))
    scim_logging.lifecycle("config.saml_enabled")


def disable_saml() -> None:
    """Turn SAML off; refused while SCIM sync is on, since SCIM requires SAML."""
    if check_if_scim_sync_is_enabled():
        message = "SCIM sync requires SAML; run `scimgate scim disable` before disabling SAML"
        scim_logging.config_error("disable_saml", message)
        raise SamlConfigurationError(message)
    conf_store.put(K.SAML_ENABLED, False, record=audit.conf_change("saml.disabled"))
    scim_logging.lifecycle("config.saml_disabled")


def _iso(value: Any) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"
