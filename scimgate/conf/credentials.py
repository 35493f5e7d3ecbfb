"""Hashing and checking the SCIM credentials: an argon2 password and a keyed-hash bearer token.

Why two hashes: the password is chosen by a person, so it gets a slow salted hash (argon2); the
token is 256 random bits, so a fast keyed hash (HMAC-SHA256 with a server pepper) is as strong and
lets every request be checked cheaply. Because IdPs send thousands of requests, a successful
argon2 verification is remembered in process memory for ``SCIM_AUTH_CACHE_SECONDS``, keyed by a
keyed digest of (stored hash, username, password): changing the password or username changes the
key, so old entries are simply never hit again.

Nothing here ever returns or logs a secret: callers get a principal or a *reason* for failure.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from scimgate.conf import keys as K
from scimgate.conf import store as conf_store
from scimgate.models import utcnow

TOKEN_PREFIX = "scimgate_"  # lets secret scanners recognise a leaked token
TOKEN_BYTES = 32  # 256 bits of randomness
REVOKED_KEPT = 10

PASSWORD_MIN_LENGTH = 17  # the reference: "longer than 16 characters"
PASSWORD_MAX_LENGTH = 1024  # bounds argon2 work per request
# The reference: "longer than 16 characters. It must contain alphanumeric characters and at
# least one special character" -- letters or digits (any script), not necessarily both.
PASSWORD_RULES = (
    "longer than 16 characters, with alphanumeric characters (letters or digits) and at least one "
    "special character (not a letter, digit or space)"
)

_process_key = secrets.token_bytes(32)  # keys the in-memory cache; never leaves this process
_cache: dict[bytes, float] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 1024


@dataclass(frozen=True)
class AuthResult:
    """A principal on success, else the reason (for scim-info.log, never for the client)."""

    principal: str | None
    reason: str | None = None


# --- password -----------------------------------------------------------------------------------


@functools.cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def password_hasher() -> PasswordHasher:
    """The argon2id hasher with this app's ``ARGON2_*`` cost parameters.

    Production keeps argon2-cffi's defaults (RFC 9106's low-memory profile); the test suite sets
    the cheapest ones, so its thousands of hashes do not dominate its run time. A hash carries its
    own parameters and is verified with them, so changing the settings never locks anyone out:
    only hashes made afterwards use the new cost.
    """
    config = current_app.config
    return _hasher(
        int(config["ARGON2_TIME_COST"]), int(config["ARGON2_MEMORY_COST"]), int(config["ARGON2_PARALLELISM"])
    )


def password_problems(password: str) -> list[str]:
    """Return what ``password`` lacks under the reference's policy (empty when acceptable); the
    SCIM service account and the application's own accounts share it."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"it has {len(password)} characters, it must have more than 16")
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(f"it must have at most {PASSWORD_MAX_LENGTH} characters")
    if not any(ch.isalnum() for ch in password):
        problems.append("it has no letter or digit")
    if not any(not ch.isalnum() and not ch.isspace() for ch in password):
        problems.append("it has no special character")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        problems.append("it contains control characters")
    return problems


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password`` (salted, slow)."""
    return password_hasher().hash(password)


def _cache_key(stored_hash: str, username: str, password: str) -> bytes:
    material = "\0".join((stored_hash, username, password)).encode("utf-8")
    return hmac.digest(_process_key, material, "sha256")


def _cache_hit(key: bytes) -> bool:
    expiry = _cache.get(key)
    return expiry is not None and expiry > time.monotonic()


def _cache_store(key: bytes) -> None:
    seconds = int(current_app.config.get("SCIM_AUTH_CACHE_SECONDS", 0))
    if seconds <= 0:
        return
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            now = time.monotonic()
            for stale in [k for k, exp in _cache.items() if exp <= now]:
                del _cache[stale]
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
        _cache[key] = time.monotonic() + seconds


def forget_verified_passwords() -> None:
    """Empty this process's cache of verified passwords (other processes expire on their own)."""
    with _cache_lock:
        _cache.clear()


def _password_matches(stored_hash: str, username: str, password: str) -> bool:
    key = _cache_key(stored_hash, username, password)
    if _cache_hit(key):
        return True
    try:
        password_hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    _cache_store(key)
    return True


def basic_is_cached(username: str, password: str) -> bool:
    """True when this exact pair was verified recently, so checking it costs no argon2 run."""
    stored_hash = conf_store.get_str(K.BASIC_PASSWORD_HASH)
    stored_user = conf_store.get_str(K.BASIC_USERNAME)
    if not stored_hash or not stored_user or username != stored_user:
        return False
    return _cache_hit(_cache_key(stored_hash, stored_user, password))


def verify_basic(username: str, password: str) -> AuthResult:
    """Check a basic-auth pair against the stored username and argon2 hash.

    Both the username and the password are checked before deciding, so the time taken does not
    reveal whether the username exists.
    """
    stored_user = conf_store.get_str(K.BASIC_USERNAME)
    stored_hash = conf_store.get_str(K.BASIC_PASSWORD_HASH)
    if not stored_user or not stored_hash:
        return AuthResult(None, "scheme not allowed: basic authentication is not configured")
    user_ok = hmac.compare_digest(username.encode("utf-8"), stored_user.encode("utf-8"))
    password_ok = _password_matches(stored_hash, stored_user, password)
    if not user_ok:
        return AuthResult(None, "unknown user")
    if not password_ok:
        return AuthResult(None, "wrong password")
    return AuthResult(f"basic:{stored_user}")


# --- bearer token -------------------------------------------------------------------------------


def new_token() -> str:
    """Return a fresh token with 256 bits of randomness."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(pepper: str, token: str) -> str:
    """Return the keyed hash stored in place of the token (HMAC-SHA256; the one-shot
    ``hmac.digest`` gives the same bytes as ``hmac.new`` without building an HMAC object on
    every request)."""
    return hmac.digest(bytes.fromhex(pepper), token.encode("utf-8"), "sha256").hex()


def token_fingerprint(token: str) -> str:
    """Return a short, non-secret identifier of a token for status output and logs."""
    return hashlib.sha256(b"scimgate-fingerprint:" + token.encode("utf-8")).hexdigest()[:12]


def new_pepper() -> str:
    """Return a new server secret for keying token hashes."""
    return secrets.token_hex(32)


def verify_token(token: str, now: dt.datetime | None = None) -> AuthResult:
    """Check a bearer token against the stored keyed hash, its expiry and the revoked list."""
    stored = conf_store.get_str(K.TOKEN_HASH)
    pepper = conf_store.get_str(K.TOKEN_PEPPER)
    if not stored or not pepper:
        return AuthResult(None, "scheme not allowed: no bearer token has been generated")
    presented = token_hash(pepper, token)
    if not hmac.compare_digest(presented, stored):
        revoked = conf_store.get(K.TOKEN_REVOKED_HASHES, []) or []
        if any(hmac.compare_digest(presented, old) for old in revoked):
            return AuthResult(None, "revoked token (replaced by a newer token)")
        return AuthResult(None, "unknown token")
    expires = conf_store.get_datetime(K.TOKEN_EXPIRES)
    if expires is not None and expires <= (now or utcnow()):
        return AuthResult(None, f"expired token (expired {expires.isoformat()}Z)")
    return AuthResult(f"token:{conf_store.get_str(K.TOKEN_FINGERPRINT)}")
