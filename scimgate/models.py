"""Database tables, mirroring the reference's tables (auth_user, userprofile, scim_user, ...).

The host application's own rows (user, profile, directory group) are kept apart from the SCIM
link rows (``scim_user``, ``scim_group``): only resources pushed by an IdP have a link, which is
how the rest of the application tells "managed by SCIM" from "created here".
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scimgate.extensions import db

USERNAME_MAX = 150
FIRST_NAME_MAX = 150
LAST_NAME_MAX = 150
EMAIL_MAX = 254
DISPLAY_NAME_MAX = 200
GROUP_NAME_MAX = 1000
EXTERNAL_ID_MAX = 255
CLIENT_NAME_MAX = 64
ROLE_MAX = 32
PASSWORD_HASH_MAX = 255
# The largest id an Integer primary key holds on every database (PostgreSQL's int4): a larger
# number in a URL names no row, and must not reach the driver (SQLite overflows on 2**63).
ROW_ID_MAX = 2**31 - 1


def utcnow() -> dt.datetime:
    """Return the current UTC time without tzinfo: both SQLite and PostgreSQL store it as-is."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def name_digest(name: str) -> str:
    """Return the SHA-256 hex digest that enforces group-name uniqueness.

    A unique B-tree index on a 1000-character column overflows PostgreSQL's index row limit for
    multi-byte names, so uniqueness (and ``displayName eq`` lookups) go through this digest.
    """
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


class User(db.Model):
    """The host application's user (``auth_user``); ``username`` is unique and case-sensitive."""

    __tablename__ = "auth_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    first_name: Mapped[str] = mapped_column(String(FIRST_NAME_MAX), default="")
    last_name: Mapped[str] = mapped_column(String(LAST_NAME_MAX), default="")
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    date_joined: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Account kind (see scimgate.accounts.kinds): a built-in account has a local password and is
    # never adopted by SCIM; any other account is SCIM-pushed when it has a link, else SAML-created.
    is_builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(PASSWORD_HASH_MAX))
    # The role assigned to the user directly (a scimgate.accounts.roles.Role value).
    role: Mapped[str] = mapped_column(String(ROLE_MAX), default="viewer")
    # A SAML sign-up waiting for an admin while sign-up moderation is on.
    approval_pending: Mapped[bool] = mapped_column(Boolean, default=False)

    profile: Mapped[UserProfile] = relationship(
        back_populates="user", uselist=False, lazy="joined", cascade="all, delete-orphan"
    )
    scim: Mapped[ScimUser | None] = relationship(
        back_populates="user", uselist=False, lazy="joined", cascade="all, delete-orphan"
    )


class UserProfile(db.Model):
    """Profile fields the reference keeps beside the user (``userprofile``)."""

    __tablename__ = "userprofile"

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX), default="")
    is_suspended: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="profile")


class ScimUser(db.Model):
    """The SCIM link of a user pushed by an IdP (``scim_user``).

    ``version`` increases on every write and is the ETag (RFC 7644 §3.14). ``email_type`` is the
    ``type`` and ``primary`` flag the IdP gave the one stored email, so ``emails[type eq "work"]``
    filters and read-backs stay truthful.
    """

    __tablename__ = "scim_user"

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    scim_user_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    client: Mapped[str] = mapped_column(String(CLIENT_NAME_MAX))
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_MAX), index=True)
    email_type: Mapped[str | None] = mapped_column(String(64))
    email_primary: Mapped[bool | None] = mapped_column(Boolean)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_modified: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    user: Mapped[User] = relationship(back_populates="scim")


class DirectoryGroup(db.Model):
    """A group from the directory (``externaldirectorygroup``); the name is unique, case-sensitive."""

    __tablename__ = "directory_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_unique_name: Mapped[str] = mapped_column(String(GROUP_NAME_MAX))
    name_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The role mapped to the group (a scimgate.accounts.roles.Role value), or none.
    role: Mapped[str | None] = mapped_column(String(ROLE_MAX))

    scim: Mapped[ScimGroup | None] = relationship(
        back_populates="group", uselist=False, lazy="joined", cascade="all, delete-orphan"
    )

    def set_name(self, name: str) -> None:
        """Set the name and its uniqueness digest together, so they cannot disagree."""
        self.external_unique_name = name
        self.name_digest = name_digest(name)


class ScimGroup(db.Model):
    """The SCIM link of a group pushed by an IdP (``scim_group``); ``version`` is the ETag."""

    __tablename__ = "scim_group"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("directory_group.id", ondelete="CASCADE"), primary_key=True
    )
    scim_group_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    client: Mapped[str] = mapped_column(String(CLIENT_NAME_MAX))
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_MAX), index=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_modified: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    group: Mapped[DirectoryGroup] = relationship(back_populates="scim")


class GroupMembership(db.Model):
    """One row per (group, user): a member change touches one row, whatever the group's size."""

    __tablename__ = "group_membership"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("directory_group.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_group_membership_user_id", "user_id"),)


class ConfEntry(db.Model):
    """One configuration key (the reference's ``alation_conf``), shared by every process and node.

    ``value`` is JSON text. Keys are written only through ``scimgate.configuration_utils``.
    """

    __tablename__ = "scimgate_conf"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ConfVersion(db.Model):
    """A random token replaced in the same transaction as every configuration change.

    Each process keeps the configuration it last read, tagged with this token; a request reads
    only the token (one tiny row) and re-reads the configuration when it changed. A random token
    rather than a counter, so emptying and refilling the tables can never bring back an old value.
    """

    __tablename__ = "scimgate_conf_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1: a single row
    token: Mapped[str] = mapped_column(String(32))


class SamlOutstandingRequest(db.Model):
    """An AuthnRequest we sent and not yet answered: the SAML replay guard shared by all processes.

    ``/saml/acs`` accepts a response only when its ``InResponseTo`` names a row here, and deletes
    the row in the same transaction, so a response can be used once, on any node.
    """

    __tablename__ = "saml_outstanding_request"

    request_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    next_url: Mapped[str] = mapped_column(String(1000), default="/")


class SamlUsedAssertion(db.Model):
    """A SAML assertion already used to sign in, kept until it could no longer be accepted anyway.

    Its id is the primary key, so of two uses (on any process or node sharing the database) the
    second insert fails: each assertion signs in once, solicited or not (``scimgate.signin.saml_replay``).
    """

    __tablename__ = "saml_used_assertion"

    assertion_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
