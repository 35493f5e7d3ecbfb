"""Each SAML assertion signs in once, on whichever process or node receives it.

An IdP-initiated (unsolicited) response answers no request of ours, so the outstanding-request
row cannot make it single-use; the assertion's own id does. A verified assertion's id is inserted
into ``saml_used_assertion`` (primary key) in the sign-in's transaction: a second use, from the
same process or another one on the same database, fails on the key and is refused. Solicited
responses go through the same rule (defence in depth next to their consumed request).

A row is kept until the assertion could not be accepted anyway (its NotOnOrAfter, at most its
issue instant plus the maximum age, plus the clock skew allowance); expired rows are deleted by
the next sign-in with one indexed range delete. Only assertions that passed signature, audience,
time and age checks are stored, so the table holds at most what the IdP issued in the last few
minutes: an attacker cannot grow it without valid signed assertions.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from scimgate.extensions import db
from scimgate.models import SamlUsedAssertion, utcnow

ID_MAX: int = SamlUsedAssertion.__table__.c.assertion_id.type.length


class AssertionAlreadyUsed(Exception):
    """The assertion id is already in the table: this is a replay."""


def remember(assertion_id: str, expires: dt.datetime) -> None:
    """Record ``assertion_id`` as used until ``expires`` in the current transaction.

    Raises ``AssertionAlreadyUsed`` (after rolling the transaction back) when it was used before,
    including by a transaction of another process that committed first. The caller commits.
    """
    db.session.execute(sa.delete(SamlUsedAssertion).where(SamlUsedAssertion.expires < utcnow()))
    db.session.add(SamlUsedAssertion(assertion_id=assertion_id, expires=expires))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AssertionAlreadyUsed(assertion_id) from None
