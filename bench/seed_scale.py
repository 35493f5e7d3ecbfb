"""Seed scimgate's database for the scale mode by bulk-inserting through scimgate's own models.

POSTing 100k users one by one would take several minutes on a 2-core machine (scimgate commits
each one durably), and would measure nothing the normal mode does not already measure. So this
step writes the same rows a POST /Users would (``auth_user`` + ``userprofile`` + ``scim_user``,
``directory_group`` + ``scim_group``, ``group_membership``) with SQLAlchemy bulk INSERTs inside
``scimgate.create_app()``'s application context, using scimgate's own models, so column
defaults and the group-name digest are scimgate's. It runs before gunicorn starts, on the
database the CLI configured (no ANALYZE: a database an IdP filled has none either); the benchmark
then checks through the API that the users and
groups are there.

Usage (the environment is scimgate's, as bench/servers.py builds it)::

    python bench/seed_scale.py --users 100000 --groups 100,10000,100000 --prefix scale --out ids.json

Group ``N`` gets the first N users as members. ``ids.json`` holds the users' SCIM ids in order and
the SCIM id of each group by size.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from typing import Any

import sqlalchemy as sa

CHUNK = 5000


def seed(users: int, group_sizes: list[int], prefix: str) -> dict[str, Any]:
    """Insert the users, groups and memberships; return their SCIM ids."""
    from scimgate import create_app
    from scimgate.configuration_utils import get_scim_client
    from scimgate.extensions import db
    from scimgate.models import (
        DirectoryGroup,
        GroupMembership,
        ScimGroup,
        ScimUser,
        User,
        UserProfile,
        name_digest,
    )

    app = create_app()
    with app.app_context():
        client = get_scim_client()
        first_id = (db.session.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
        user_ids = list(range(first_id, first_id + users))
        scim_ids = [str(uuid.uuid4()) for _ in user_ids]
        for start in range(0, users, CHUNK):
            part = range(start, min(users, start + CHUNK))
            db.session.execute(
                sa.insert(User),
                [
                    {
                        "id": user_ids[i],
                        "username": f"{prefix}-user-{i:06d}",
                        "first_name": f"Given{i}",
                        "last_name": f"Family{i}",
                        "email": f"{prefix}-user-{i:06d}@example.com",
                        "is_active": True,
                    }
                    for i in part
                ],
            )
            db.session.execute(
                sa.insert(UserProfile),
                [
                    {"user_id": user_ids[i], "display_name": f"Scale User {i}", "is_suspended": False}
                    for i in part
                ],
            )
            db.session.execute(
                sa.insert(ScimUser),
                [
                    {
                        "user_id": user_ids[i],
                        "scim_user_uuid": scim_ids[i],
                        "client": client,
                        "external_id": f"{prefix}-ext-{i:06d}",
                        "email_type": "work",
                        "email_primary": True,
                        "version": 1,
                    }
                    for i in part
                ],
            )
            db.session.commit()
        groups: dict[str, str] = {}
        for size in group_sizes:
            name = f"{prefix}-group-{size}"
            group = DirectoryGroup()
            group.set_name(name)
            db.session.add(group)
            db.session.flush()
            scim_id = str(uuid.uuid4())
            db.session.add(ScimGroup(group_id=group.id, scim_group_uuid=scim_id, client=client, version=1))
            db.session.flush()
            for start in range(0, size, CHUNK):
                db.session.execute(
                    sa.insert(GroupMembership),
                    [
                        {"group_id": group.id, "user_id": uid}
                        for uid in user_ids[start : min(size, start + CHUNK)]
                    ],
                )
            db.session.commit()
            groups[str(size)] = scim_id
            assert name_digest(name) == group.name_digest
    return {"users": scim_ids, "groups": groups}


def main() -> None:
    """Seed, and write the ids to ``--out``."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--groups", default="100,10000,100000", help="comma-separated group sizes")
    parser.add_argument("--prefix", default="scale")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    sizes = [int(s) for s in args.groups.split(",") if s]
    if any(size > args.users for size in sizes):
        parser.error("a group cannot have more members than there are users")
    started = time.monotonic()
    result = seed(args.users, sizes, args.prefix)
    result["seconds"] = round(time.monotonic() - started, 1)
    with open(args.out, "w") as handle:
        json.dump(result, handle)
    print(f"seeded {args.users} users and groups {sizes} in {result['seconds']} s")


if __name__ == "__main__":
    main()
