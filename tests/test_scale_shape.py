"""Costs stay flat as groups grow: the statements a member change issues do not depend on the
group's size (asserted as query shape, never as timings)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from scimgate.extensions import db
from scimgate.models import GroupMembership, ScimUser, User, UserProfile, utcnow
from scimgate.scim import urns
from tests.support.resources import new_group, new_user
from tests.support.sql_counter import count_statements


def bulk_members(app, group_id: str, count: int) -> None:
    """Insert ``count`` SCIM users straight into the tables and make them members of the group."""
    with app.app_context():
        group_pk = db.session.execute(
            sa.text("SELECT group_id FROM scim_group WHERE scim_group_uuid = :g"), {"g": group_id}
        ).scalar_one()
        now = utcnow()
        ids = db.session.scalars(
            sa.insert(User).returning(User.id, sort_by_parameter_order=True),
            [{"username": f"bulk{i}", "is_active": True} for i in range(count)],
        ).all()
        db.session.execute(sa.insert(UserProfile), [{"user_id": i, "is_suspended": False} for i in ids])
        db.session.execute(
            sa.insert(ScimUser),
            [
                {
                    "user_id": i,
                    "scim_user_uuid": str(uuid.uuid4()),
                    "client": "okta",
                    "created": now,
                    "last_modified": now,
                    "version": 1,
                }
                for i in ids
            ],
        )
        db.session.execute(sa.insert(GroupMembership), [{"group_id": group_pk, "user_id": i} for i in ids])
        db.session.commit()


def member_change_statements(app, scim, group_id: str, user_id: str) -> tuple[list[str], list[str]]:
    def patch(op: dict) -> list[str]:
        with count_statements(app) as statements:
            response = scim.patch(
                f"/Groups/{group_id}",
                json={"schemas": [urns.PATCH_OP], "Operations": [op]},
                query_string={"excludedAttributes": "members"},
            )
            assert response.status_code == 200
        return list(statements)

    added = patch({"op": "add", "path": "members", "value": [{"value": user_id}]})
    removed = patch({"op": "remove", "path": f'members[value eq "{user_id}"]'})
    return added, removed


@pytest.mark.parametrize("size", [10, 2_000])
def test_single_member_change_issues_the_same_statements_whatever_the_group_size(app, scim, size):
    small = new_group(scim, "small")
    big = new_group(scim, "big")
    bulk_members(app, big["id"], size)
    user = new_user(scim, "newcomer")["id"]
    small_add, small_remove = member_change_statements(app, scim, small["id"], user)
    big_add, big_remove = member_change_statements(app, scim, big["id"], user)
    assert len(big_add) == len(small_add)
    assert len(big_remove) == len(small_remove)


@pytest.mark.slow
def test_member_change_on_a_100k_member_group_reads_no_member_list(app, scim):
    big = new_group(scim, "huge")
    bulk_members(app, big["id"], 100_000)
    user = new_user(scim, "newcomer")["id"]
    added, removed = member_change_statements(app, scim, big["id"], user)
    small = new_group(scim, "tiny")
    small_add, small_remove = member_change_statements(app, scim, small["id"], user)
    assert len(added) == len(small_add) and len(removed) == len(small_remove)
    # Without excludedAttributes the response would list 100k members: it answers 204 instead.
    response = scim.patch(
        f"/Groups/{big['id']}",
        json={
            "schemas": [urns.PATCH_OP],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": user}]}],
        },
    )
    assert response.status_code == 204
    assert response.headers["ETag"].startswith('W/"')
    read = scim.get(f"/Groups/{big['id']}", query_string={"excludedAttributes": "members"})
    assert read.status_code == 200 and "members" not in read.get_json()


def test_big_group_patch_answers_204_above_the_limit(app, scim):
    users = [new_user(scim, f"u{i}")["id"] for i in range(4)]
    group = new_group(scim, "g", members=users[:3])
    body = {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": users[3]}]}],
    }
    app.config["SCIM_PATCH_BODY_MAX_MEMBERS"] = 3
    try:
        response = scim.patch(f"/Groups/{group['id']}", json=body)
        assert response.status_code == 204
        assert response.data == b""
        assert response.headers["ETag"] == 'W/"2"'
        explicit = scim.patch(
            f"/Groups/{group['id']}", json=body, query_string={"excludedAttributes": "members"}
        )
        assert explicit.status_code == 200
        assert "members" not in explicit.get_json()
    finally:
        app.config["SCIM_PATCH_BODY_MAX_MEMBERS"] = 1000
    assert len(scim.get(f"/Groups/{group['id']}").get_json()["members"]) == 4


def test_page_statements_do_not_depend_on_position(app, scim):
    for i in range(12):
        new_user(scim, f"user{i:02d}")

    def statements(**params) -> int:
        with count_statements(app) as recorded:
            assert scim.get("/Users", query_string=params).status_code == 200
        return len(recorded)

    assert statements(startIndex=1, count=3) == statements(startIndex=10, count=3)
    first = scim.get("/Users", query_string={"cursor": "", "count": 3}).get_json()
    assert statements(cursor="", count=3) == statements(cursor=first["nextCursor"], count=3)


def test_large_group_read_is_streamed_and_identical(app, scim):
    users = [new_user(scim, f"s{i}", displayName=f"S {i}")["id"] for i in range(7)]
    group = new_group(scim, "streamed", members=users)
    url = f"/Groups/{group['id']}"
    in_memory = scim.get(url, buffered=True)
    assert len(list(scim.get(url).response)) == 1  # one string
    app.config["SCIM_STREAM_MEMBERS_ABOVE"] = 3
    try:
        assert len(list(scim.get(url).response)) == 4  # head, two batches of 4 and 3 members, tail
        streamed = scim.get(url, buffered=True)
        named = scim.get(url, query_string={"attributes": "members.value,members.display"})
    finally:
        app.config["SCIM_STREAM_MEMBERS_ABOVE"] = 5000
    assert streamed.status_code == 200
    assert streamed.get_json() == in_memory.get_json()
    assert streamed.headers["ETag"] == in_memory.headers["ETag"]
    assert streamed.headers["Content-Type"] == "application/scim+json; charset=utf-8"
    assert len(named.get_json()["members"]) == 7


@pytest.mark.slow
def test_a_100k_member_group_streams_in_bounded_batches(app, scim):
    group = new_group(scim, "huge-read")
    bulk_members(app, group["id"], 100_000)
    with count_statements(app) as statements:
        response = scim.get(f"/Groups/{group['id']}")
        chunks = list(response.response)
    body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    import json

    members = json.loads(body)["members"]
    assert len(members) == 100_000
    assert len(chunks) >= 20  # written batch by batch (5001 members each), not as one string
    assert len(statements) < 15


def test_the_204_threshold_counts_deactivated_members_and_joins_nothing(app, scim):
    """The check reads the membership index only: a deactivated member counts toward the limit."""
    users = [new_user(scim, f"d{i}")["id"] for i in range(4)]
    group = new_group(scim, "g", members=users[:3])
    scim.patch(
        f"/Users/{users[0]}",
        json={"schemas": [urns.PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
    )
    body = {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": users[3]}]}],
    }
    app.config["SCIM_PATCH_BODY_MAX_MEMBERS"] = 3
    try:
        with count_statements(app) as statements:
            response = scim.patch(f"/Groups/{group['id']}", json=body)
    finally:
        app.config["SCIM_PATCH_BODY_MAX_MEMBERS"] = 1000
    assert response.status_code == 204  # 4 membership rows > 3, although only 3 members are active
    checks = [s for s in statements if "OFFSET" in s.upper() and "group_membership" in s]
    assert len(checks) == 1 and "auth_user" not in checks[0] and "userprofile" not in checks[0]
    assert len(scim.get(f"/Groups/{group['id']}").get_json()["members"]) == 3  # the inactive one is hidden


def test_okta_single_member_removal_removes_only_that_member(app, scim):
    users = [new_user(scim, f"r{i}")["id"] for i in range(3)]
    group = new_group(scim, "g", members=users)
    remove = {
        "schemas": [urns.PATCH_OP],
        "Operations": [{"op": "remove", "path": f'members[value eq "{users[1]}"]'}],
    }
    assert scim.patch(f"/Groups/{group['id']}", json=remove).status_code == 200
    assert {m["value"] for m in scim.get(f"/Groups/{group['id']}").get_json()["members"]} == {
        users[0],
        users[2],
    }
    again = scim.patch(f"/Groups/{group['id']}", json=remove)  # a non-member: nothing to remove, no error
    assert again.status_code == 200 and len(again.get_json()["members"]) == 2
