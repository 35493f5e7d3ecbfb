"""Helpers for the configuration, auth, CLI and log tests (no fixtures: plain functions)."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

from flask import Flask

from scimgate import create_app
from scimgate.extensions import db
from scimgate.models import DirectoryGroup, GroupMembership, ScimGroup, ScimUser, User, UserProfile

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PASSWORD = "scim_account_password_12345&&"
USERNAME = "scim_account_username@example.com"
SPC = "/scim/v2/ServiceProviderConfig"
LOG_FILES = ("scim-debug.log", "scim-info.log", "scim-error.log")


def basic_header(username: str, password: str, scheme: str = "Basic") -> dict[str, str]:
    """Return an Authorization header for HTTP basic authentication (RFC 7617)."""
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"{scheme} {raw}"}


def bearer_header(token: str, scheme: str = "Bearer") -> dict[str, str]:
    """Return an Authorization header for a bearer token (RFC 6750)."""
    return {"Authorization": f"{scheme} {token}"}


def read_log(log_dir: Path, name: str) -> str:
    """Return the text of one SCIM log file ('' when it was not written yet)."""
    path = Path(log_dir) / name
    return path.read_text(encoding="utf-8") if path.exists() else ""


def lines_with(log_dir: Path, name: str, request_id: str) -> list[str]:
    """Return the lines of a log file that carry ``request_id``."""
    return [line for line in read_log(log_dir, name).splitlines() if f"[{request_id}]" in line]


def add_pushed_user(username: str, client: str = "okta", suspended: bool = False) -> User:
    """Insert a user as if an IdP had pushed it (user + profile + SCIM link)."""
    user = User(username=username, first_name="F", last_name="L", email=f"{username}@example.com")
    user.profile = UserProfile(display_name=username, is_suspended=suspended)
    user.scim = ScimUser(scim_user_uuid=str(uuid.uuid4()), client=client, external_id=f"ext-{username}")
    db.session.add(user)
    db.session.commit()
    return user


def add_local_user(username: str) -> User:
    """Insert a user created in the application itself (no SCIM link)."""
    user = User(username=username)
    user.profile = UserProfile(display_name=username)
    db.session.add(user)
    db.session.commit()
    return user


def add_group(name: str, members: list[User], client: str | None = "okta") -> DirectoryGroup:
    """Insert a group (SCIM-pushed when ``client`` is given) with the given members."""
    group = DirectoryGroup()
    group.set_name(name)
    if client is not None:
        group.scim = ScimGroup(scim_group_uuid=str(uuid.uuid4()), client=client, external_id=f"ext-{name}")
    db.session.add(group)
    db.session.flush()
    for user in members:
        db.session.add(GroupMembership(group_id=group.id, user_id=user.id))
    db.session.commit()
    return group


def sibling_app(app: Flask, log_dir: Path, **overrides: Any) -> Flask:
    """Build a second app on the same database, as another process or node would."""
    return create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SQLALCHEMY_ENGINE_OPTIONS": app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "LOG_DIR": str(log_dir),
            **overrides,
        },
    )
