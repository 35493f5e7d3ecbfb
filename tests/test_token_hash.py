"""The stored token hash is HMAC-SHA256 keyed with the pepper: tokens stored by any earlier
version keep verifying (a known-answer vector, RFC 4231 test case 2)."""

from __future__ import annotations

from scimgate.conf.credentials import token_hash


def test_token_hash_is_hmac_sha256_of_the_token_keyed_with_the_pepper() -> None:
    pepper = b"Jefe".hex()
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert token_hash(pepper, "what do ya want for nothing?") == expected
