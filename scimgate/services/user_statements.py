"""PostgreSQL's user writes as one statement each (data-modifying CTEs), built once.

On PostgreSQL every statement is a round trip, and a round trip costs the app 70-90 µs of CPU
(the driver, a send, a wait, a wake-up; measured with ``bench/inproc.py --postgresql``) where a
SQLite statement is a function call: a create used to be ``BEGIN``, four ``INSERT``s and
``COMMIT``, a PATCH ``BEGIN``, a row lock, a read, up to three ``UPDATE``s, the audit ``INSERT``
and ``COMMIT``. Here the writes of each are one statement. One statement is atomic, so it runs
as its own transaction (``db.transactions.one_statement_write``): a create is then the
credential check's token read and this statement (2 round trips instead of 7), a PATCH the token
read, the user's read and this statement (3 instead of 8).

The update is optimistic: it writes only when the link row still has the version the user was
read with, and says so by returning the row; no row back means another write came first (or
the user was deleted), and the request runs again (``services.user_writes.update``). SQLite has
no data-modifying CTEs; ``services.user_writes`` runs the separate statements there, inside the
transaction its ``BEGIN IMMEDIATE`` opened.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from scimgate.db.prepared import Prepared
from scimgate.logs.audit import EVENT_KEYS, AuditEvent
from scimgate.models import ScimUser, User, UserProfile

# The audit event's values are bound as ``audit_<column>`` (its columns share names with others').
AUDIT_PREFIX = "audit_"


def _event_from(source: sa.CTE) -> sa.CTE:
    """Insert the audit event once for the row ``source`` returns (none when it returns none)."""
    table = AuditEvent.__table__
    values = [sa.bindparam(f"{AUDIT_PREFIX}{key}", type_=table.c[key].type) for key in EVENT_KEYS]
    rows = sa.select(*values).select_from(source)
    return sa.insert(table).from_select(list(EVENT_KEYS), rows).cte("new_audit_event")


def create_statement(
    account_keys: tuple[str, ...], profile_keys: tuple[str, ...], link_keys: tuple[str, ...]
) -> Prepared:
    """A new user's four rows (account, profile, SCIM link, audit event), or none of them when
    the username is taken: then no row comes back (the account's ``INSERT ... ON CONFLICT
    (username) DO NOTHING RETURNING id`` feeds the other three)."""
    account_table = User.__table__
    new_account = (
        postgresql.insert(account_table)
        .values({key: sa.bindparam(key, type_=account_table.c[key].type) for key in account_keys})
        .on_conflict_do_nothing(index_elements=[account_table.c.username])
        .returning(account_table.c.id)
        .cte("new_account")
    )

    def linked_row(table: sa.Table, keys: tuple[str, ...]) -> sa.CTE:
        values = [sa.bindparam(key, type_=table.c[key].type) for key in keys]
        rows = sa.select(new_account.c.id, *values)
        return sa.insert(table).from_select(["user_id", *keys], rows).cte(f"new_{table.name}")

    return Prepared(
        sa.select(new_account.c.id).add_cte(
            linked_row(UserProfile.__table__, profile_keys),
            linked_row(ScimUser.__table__, link_keys),
            _event_from(new_account),
        )
    )


def update_statement(
    account_fields: tuple[str, ...], profile_fields: tuple[str, ...], link_fields: tuple[str, ...]
) -> Prepared:
    """Write a user's new values when its link row still has version ``old_version``: the link
    row always (its version and lastModified), the account and profile rows when fields of
    theirs are given (empty: not written), and the audit event. Returns the user's key, or no
    row when the version moved (nothing is written then). Values bind as ``new_<field>``, the
    user as ``row_key``."""
    link_table = ScimUser.__table__
    written_link = (
        sa.update(link_table)
        .where(link_table.c.user_id == sa.bindparam("row_key"))
        .where(link_table.c.version == sa.bindparam("old_version"))
        .values({field: sa.bindparam(f"new_{field}") for field in link_fields})
        .returning(link_table.c.user_id)
        .cte("written_link")
    )
    parts = []
    for table, key, fields in (
        (User.__table__, User.__table__.c.id, account_fields),
        (UserProfile.__table__, UserProfile.__table__.c.user_id, profile_fields),
    ):
        if fields:
            written = (
                sa.update(table)
                .where(key == written_link.c.user_id)
                .values({field: sa.bindparam(f"new_{field}") for field in fields})
            )
            parts.append(written.cte(f"written_{table.name}"))
    return Prepared(sa.select(written_link.c.user_id).add_cte(*parts, _event_from(written_link)))
