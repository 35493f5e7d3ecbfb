"""Names that cannot forge a line or drive a terminal: one rule for input, one escape for output.

A userName with CR/LF would write a whole fake line into ``scimgate audit`` output or a log
file, ESC and OSC sequences (``\\x1b]...``) would reach the admin's terminal, and the bidi
overrides (Trojan Source, CVE-2021-42574) make a name read differently from what it is. So:

- on input, ``unsafe_character_problem`` refuses such characters in every name scimgate stores
  (SCIM Users and Groups, the admin API and pages, ``scimgate admin create``, SAML-created
  accounts): call it from any new path that creates or renames one;
- on output, ``escape`` prints them as ``\\xNN`` / ``\\uNNNN``, so values stored before this rule
  (or reaching a CLI from elsewhere, e.g. SAML metadata) still print as one inert line.

The unsafe characters are the Unicode controls (C0, DEL, C1: category Cc), the line and
paragraph separators U+2028/U+2029, the bidirectional formatting characters and lone surrogates.
Other format characters (zero-width joiners, used by several scripts and emoji) are allowed.
"""

from __future__ import annotations

import re
import unicodedata

# Cc (C0, DEL, C1), U+2028/U+2029, ALM, LRM/RLM, LRE..RLO, LRI..PDI, and lone surrogates.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _code_point(char: str) -> str:
    name = unicodedata.name(char, "")
    if not name:
        names = {"\n": "LINE FEED", "\r": "CARRIAGE RETURN", "\t": "TAB", "\x1b": "ESCAPE", "\x00": "NUL"}
        name = names.get(char, "control character")
    return f"U+{ord(char):04X} ({name})"


def unsafe_character_problem(value: str, what: str) -> str | None:
    """Say why ``value`` may not be stored as ``what`` (e.g. ``"userName"``), or None when it may.

    The sentence names the first offending character and its position, so an admin can find it
    in the IdP (a pasted name often carries an invisible U+200E or a trailing tab).
    """
    found = UNSAFE.search(value)
    if found is None:
        return None
    return (
        f"{what} contains the control character {_code_point(found.group())} at position "
        f"{found.start() + 1}; control characters, line breaks and bidirectional overrides are "
        "not allowed in names"
    )


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def escape(value: object) -> str:
    """``str(value)`` with every unsafe character escaped: ``\\n``, ``\\r``, ``\\t``, ``\\xNN``, ``\\uNNNN``.

    Print every stored name through this in CLI output. A JSON text passed through it stays
    valid JSON only if it had no unsafe character outside strings; ``json_escape`` is for JSON.
    """
    text = str(value)
    return UNSAFE.sub(_escaped, text) if UNSAFE.search(text) else text


def _json_escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_escape(text: str) -> str:
    """A JSON text (from ``json.dumps(..., ensure_ascii=False)``) with the unsafe characters it
    leaves raw (DEL, C1, U+2028/2029, bidi controls) written as ``\\uNNNN``: still the same JSON."""
    return UNSAFE.sub(_json_escaped, text) if UNSAFE.search(text) else text


def escape_keeping_newlines(text: str) -> str:
    """``escape`` for a multi-line text (a traceback) whose line feeds the caller handles itself."""
    if not UNSAFE.search(text.replace("\n", "")):
        return text
    return "\n".join(escape(part) for part in text.split("\n"))
