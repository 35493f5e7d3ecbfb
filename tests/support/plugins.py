"""Helpers the per-IdP tests share: replay a payload file with its client active, read state back.

Final state is read twice over: through the SCIM API (what the IdP will see on its next read) and
straight from the database rows (what the application really stores), so neither a rendering
shortcut nor a stale cache can make a test pass.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import shutil
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from scimgate.extensions import db
from scimgate.models import DirectoryGroup, GroupMembership, ScimGroup, ScimUser, User
from scimgate.plugin_host import ENTRY_POINT_GROUP
from scimgate.scim import urns
from tests.support import replay
from tests.support.scim import ScimClient, configure_scim


@dataclass(frozen=True)
class StoredUser:
    """A user's row values, as the application stores them."""

    username: str
    first_name: str
    last_name: str
    email: str
    display_name: str
    is_active: bool
    is_suspended: bool
    external_id: str | None
    client: str


def active_client(app: Flask, client_name: str) -> ScimClient:
    """Configure SCIM for ``client_name`` (the reference's set-up) and return an API client."""
    return ScimClient(app.test_client(), configure_scim(app, client_name))


def replay_file(
    app: Flask, idp: str, name: str, variables: dict[str, Any] | None = None
) -> tuple[ScimClient, replay.Replay]:
    """Make the file's client active, replay it, and return the client and the outcome."""
    sequence = replay.load(idp, name)
    scim = active_client(app, sequence["client"])
    outcome = replay.run(scim.client, sequence, scim.headers, variables)
    return scim, outcome


def stored_user(app: Flask, scim_id: str) -> StoredUser | None:
    """The rows behind SCIM user ``scim_id``, or None when it no longer exists."""
    with app.app_context():
        row = db.session.execute(
            sa.select(User, ScimUser)
            .join(ScimUser, ScimUser.user_id == User.id)
            .where(ScimUser.scim_user_uuid == scim_id)
        ).first()
        if row is None:
            return None
        user, link = row
        return StoredUser(
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            display_name=user.profile.display_name,
            is_active=user.is_active,
            is_suspended=user.profile.is_suspended,
            external_id=link.external_id,
            client=link.client,
        )


def stored_group(app: Flask, scim_id: str) -> tuple[str, set[str]] | None:
    """The stored name and member SCIM ids (active or not) of group ``scim_id``, or None."""
    with app.app_context():
        group = db.session.execute(
            sa.select(DirectoryGroup)
            .join(ScimGroup, ScimGroup.group_id == DirectoryGroup.id)
            .where(ScimGroup.scim_group_uuid == scim_id)
        ).scalar_one_or_none()
        if group is None:
            return None
        members = set(
            db.session.scalars(
                sa.select(ScimUser.scim_user_uuid)
                .join(GroupMembership, GroupMembership.user_id == ScimUser.user_id)
                .where(GroupMembership.group_id == group.id)
            )
        )
        return group.external_unique_name, members


def api_members(scim: ScimClient, group_id: str) -> set[str]:
    """Member ids a SCIM read of the group returns."""
    response = scim.get(f"/Groups/{group_id}")
    assert response.status_code == 200, response.get_json()
    return {m["value"] for m in response.get_json().get("members", [])}


def new_user(scim: ScimClient, user_name: str, **extra: Any) -> dict[str, Any]:
    """Create a user the RFC way (used to set up state a sequence starts from)."""
    response = scim.post("/Users", json={"schemas": [urns.USER], "userName": user_name, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    """A PatchOp message (RFC 7644 §3.5.2)."""
    return {"schemas": [urns.PATCH_OP], "Operations": list(operations)}


ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "scimgate-onelogin"
EXAMPLE_CLIENT = "onelogin"


def check_setup_guide_against_its_doc(host: Any, client: str) -> Any:
    """The client's ``scimgate_setup_guide`` answer, checked against the page it links: the IdP's
    names for the base URL field and each authentication mode, and every literal (copyable)
    value, must be written in that page; its modes are exactly the schemes the client accepts."""
    hooks = host.hooks_for(client)
    guide = hooks.setup_guide()
    doc = (ROOT / guide.doc).read_text(encoding="utf-8")
    assert guide.base_url_label in doc, guide.base_url_label
    assert set(guide.auth_modes) == set(hooks.auth_schemes())
    for mode in guide.auth_modes.values():
        assert mode.split(" (")[0] in doc, mode
    for field in guide.fields:
        if field.copyable:
            assert field.value in doc, field
    assert guide.actions and guide.quirks and guide.where
    assert all(len(q) <= 160 for q in guide.quirks), "quirks are short sentences"
    return guide


def _example_entry_point_found() -> bool:
    return any(ep.name == EXAMPLE_CLIENT for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def ensure_example_installed(tmp_path: Path) -> None:
    """Install the example plugin (``examples/scimgate-onelogin``) with pip unless ``scripts/setup``
    already did.

    A running interpreter reads ``.pth`` files only at start-up, so after a fresh editable install
    the new ``.pth`` is processed here the way start-up would have (from a copy in a scratch
    directory, so no other ``.pth`` runs twice).
    """
    if _example_entry_point_found():
        return
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "-e", str(EXAMPLE)],
        check=True,
        cwd=tmp_path,
    )
    importlib.invalidate_caches()
    purelib = Path(sysconfig.get_paths()["purelib"])
    scratch = tmp_path / "pth"
    scratch.mkdir()
    for pth in purelib.glob("__editable__*scimgate_onelogin*.pth"):
        shutil.copy(pth, scratch / pth.name)
    site.addsitedir(str(scratch))
    assert _example_entry_point_found(), "pip installed the example but its entry point is not visible"
