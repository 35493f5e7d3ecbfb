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


def _non_ascii(column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """True for values holding a non-ASCII character (more bytes than characters in UTF-8)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.func.length(sa.cast(column, sa.LargeBinary)) != sa.func.length(column)
    return sa.func.octet_length(column) != sa.func.length(column)


def existing_lookalike(username: str) -> str | None:
    """Return an existing username that looks like ``username`` without being it, else None.

    Called only when an account is about to be created (a first SAML sign-in). An ASCII username's
    key is its ASCII lower case, which SQL ``lower()`` computes the same on SQLite and PostgreSQL,
    so ASCII look-alikes are found by the database; only the (usually few) non-ASCII usernames are
    read and keyed here. An indexed key column would also have to be kept by the SCIM write path.
    """
    key = lookalike_key(username)
    column = User.__table__.c.username
    if key.isascii():
        found = db.session.execute(
            sa.select(column)
            .where(sa.func.lower(column) == key, column != username, sa.not_(_non_ascii(column)))
            .limit(1)
        ).scalar()
        if found is not None:
            return found
    names = db.session.execute(
        sa.select(column).where(_non_ascii(column), column != username).execution_options(yield_per=_BATCH)
    ).scalars()
    for name in names:
        if lookalike_key(name) == key:
            names.close()
            return name
    return None
