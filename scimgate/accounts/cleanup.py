"""Clean up what the previous SCIM client pushed, so the provider can be changed (the reference's
"Changing the SCIM Provider" cleanup script).

Users pushed over SCIM are suspended (not deleted: their history in the application stays), SCIM
groups are deleted with their memberships, and the SCIM links (ids, externalIds) are removed.
Users and groups that were never pushed by an IdP have no link and are not touched. Everything
happens in one transaction: either all of it or nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from scimgate.accounts import admins
from scimgate.extensions import db
from scimgate.logs import audit
from scimgate.logs import scim_logs as scim_logging
from scimgate.models import DirectoryGroup, GroupMembership, ScimGroup, ScimUser, UserProfile


@dataclass(frozen=True)
class CleanupCounts:
    """How many rows a cleanup changes (or would change)."""

    users_suspended: int
    groups_deleted: int
    memberships_deleted: int
    user_links_deleted: int
    group_links_deleted: int


def _count(stmt) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(stmt.subquery())) or 0


def count_cleanup() -> CleanupCounts:
    """Return what ``run_cleanup`` would change, without changing anything."""
    scim_group_ids = db.select(ScimGroup.group_id)
    return CleanupCounts(
        users_suspended=_count(
            db.select(ScimUser.user_id)
            .outerjoin(UserProfile, UserProfile.user_id == ScimUser.user_id)
            .where(db.or_(UserProfile.is_suspended.is_(None), UserProfile.is_suspended.is_(False)))
        ),
        groups_deleted=_count(db.select(DirectoryGroup.id).where(DirectoryGroup.id.in_(scim_group_ids))),
        memberships_deleted=_count(
            db.select(GroupMembership.group_id).where(GroupMembership.group_id.in_(scim_group_ids))
        ),
        user_links_deleted=_count(db.select(ScimUser.user_id)),
        group_links_deleted=_count(db.select(ScimGroup.group_id)),
    )


def admin_lockout_problem() -> str | None:
    """Say why a cleanup could lock every admin out, or None when an active built-in admin exists.

    The cleanup suspends every SCIM-pushed user; if the only Server Admins were pushed by the IdP,
    nobody could sign in to administer the application afterwards. A built-in account (local
    password, ``scimgate admin create``) is never touched by the cleanup.
    """
    if admins.active_server_admins(builtin_only=True):
        return None
    return (
        "no active built-in Server Admin exists: the cleanup suspends every SCIM-pushed user, so "
        "nobody might be able to sign in to administer the application; create one first with "
        "`scimgate admin create USERNAME`"
    )


def run_cleanup() -> CleanupCounts:
    """Suspend SCIM users, delete SCIM groups and memberships, drop SCIM links; one transaction.

    Refused (``admins.LockoutRefusal``, nothing changed) when it would suspend, or take the role
    from, the last active Server Admin.
    """
    counts = count_cleanup()
    admin_before = admins.had_an_admin()
    try:
        user_ids = list(db.session.scalars(db.select(ScimUser.user_id)))
        group_ids = list(db.session.scalars(db.select(ScimGroup.group_id)))
        for user_id in user_ids:
            profile = db.session.get(UserProfile, user_id)
            if profile is None:
                db.session.add(UserProfile(user_id=user_id, is_suspended=True))
            else:
                profile.is_suspended = True
        db.session.flush()
        if group_ids:
            db.session.execute(db.delete(GroupMembership).where(GroupMembership.group_id.in_(group_ids)))
            db.session.execute(db.delete(ScimGroup).where(ScimGroup.group_id.in_(group_ids)))
            db.session.execute(db.delete(DirectoryGroup).where(DirectoryGroup.id.in_(group_ids)))
        if user_ids:
            db.session.execute(db.delete(ScimUser).where(ScimUser.user_id.in_(user_ids)))
        audit.record("scim.provider_cleanup", "scim", None, changes=asdict(counts))
        admins.commit_keeping_an_admin("the provider cleanup", admin_before)
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.expire_all()
    scim_logging.lifecycle("scim.cleanup", **asdict(counts))
    return counts
