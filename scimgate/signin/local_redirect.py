"""The one check of every redirect target a user can supply (``next``, ``back``, a stored
sign-in destination): only a path on this site passes, anything else becomes the default.

Browsers forgive a lot in a ``Location``: they drop tabs and newlines (``/\\t/evil.example`` is
``//evil.example``), read ``\\`` as ``/``, and a proxy may decode ``%2F`` once more before they
see it. So the target must be a printable path that starts with exactly one ``/``, holds no
backslash, and stays so after each round of percent-decoding; anything with a scheme or a host
is refused.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

MAX_LENGTH = 1000  # the stored sign-in destination's column size
_DECODING_ROUNDS = 3


def _plain_local_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//") or "\\" in value or not value.isprintable():
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def is_local(value: str) -> bool:
    """True when ``value`` can only lead to a page of this site, however it is decoded."""
    for _round in range(_DECODING_ROUNDS):
        if not _plain_local_path(value):
            return False
        decoded = unquote(value)
        if decoded == value:
            return True
        value = decoded
    return False  # still encoded after three rounds: nobody needs that


def local_target(value: object, default: str) -> str:
    """Return ``value`` when it is a path of this site, else ``default``."""
    if isinstance(value, str) and 0 < len(value) <= MAX_LENGTH and is_local(value):
        return value
    return default
