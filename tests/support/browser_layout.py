"""Support for the layout tests: legal but long values, seeded through SCIM and the database, and
the measurements that say whether a page holds up (no sideways growth, boxes that do not overlap)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx2
from flask import Flask

from scimgate.accounts import groups as app_groups
from scimgate.extensions import db
from scimgate.models import DISPLAY_NAME_MAX, EMAIL_MAX, GROUP_NAME_MAX, USERNAME_MAX, User
from tests.support.signin import add_admin

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
WIDTHS = {"desktop": 1280, "phone": 390}


def _long(prefix: str, length: int) -> str:
    """``prefix`` then unbroken filler up to ``length`` characters (the worst case: no spaces)."""
    return (prefix + "x" * length)[:length]


def long_email() -> str:
    """A valid address of exactly 254 characters: a 64-character local part, 63-character labels."""
    return "l" * 64 + "@" + "d" * 63 + "." + "e" * 63 + "." + "f" * 53 + ".example"


LONG_USERNAME = _long("pushed.user.", USERNAME_MAX)
LONG_ADMIN = _long("admin.", USERNAME_MAX)
LONG_DISPLAY_NAME = _long("Display Name ", DISPLAY_NAME_MAX)
LONG_EMAIL = long_email()
LONG_GROUP = _long("Okta Group ", GROUP_NAME_MAX)
LONG_APP_GROUP = _long("App Group ", GROUP_NAME_MAX)


@dataclass(frozen=True)
class Seeded:
    """What ``seed_long_values`` made."""

    scim_group_id: int
    app_group_id: int
    pushed_user_id: int


def seed_long_values(app: Flask, live_url: str, token: str) -> Seeded:
    """A SCIM user and group with the longest legal values (through SCIM, so the activity page and
    the audit trail carry them too), an application group with a 1000-character name, and a
    built-in Server Admin ``LONG_ADMIN`` whose display name and email are as long as allowed."""
    assert len(LONG_EMAIL) == EMAIL_MAX and len(LONG_USERNAME) == USERNAME_MAX
    with httpx2.Client(base_url=live_url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
        user = http.post(
            "/scim/v2/Users",
            json={
                "schemas": [USER_SCHEMA],
                "userName": LONG_USERNAME,
                "displayName": LONG_DISPLAY_NAME,
                "externalId": "x" * 255,
                "emails": [{"value": LONG_EMAIL, "primary": True}],
                "active": True,
            },
        )
        assert user.status_code == 201, user.text
        group = http.post(
            "/scim/v2/Groups",
            json={
                "schemas": [GROUP_SCHEMA],
                "displayName": LONG_GROUP,
                "members": [{"value": user.json()["id"]}],
            },
        )
        assert group.status_code == 201, group.text
        missing = http.get(f"/scim/v2/Users/{'0' * 36}{'z' * 400}")
        assert missing.status_code == 404
        read = http.get(f"/scim/v2/Users/{user.json()['id']}")  # a path whose id names the long user
        assert read.status_code == 200
        duplicate = http.post("/scim/v2/Users", json={"schemas": [USER_SCHEMA], "userName": LONG_USERNAME})
        assert duplicate.status_code == 409  # a failure whose reason repeats the long username
    with app.app_context():
        admin = add_admin(LONG_ADMIN)
        admin.email = LONG_EMAIL
        admin.profile.display_name = LONG_DISPLAY_NAME
        db.session.commit()
        pushed = db.session.scalar(db.select(User).where(User.username == LONG_USERNAME))
        app_group = app_groups.create_app_group(LONG_APP_GROUP, [pushed.id, admin.id], "steward")
        scim_group = next(g for g in app_groups.all_groups() if g.external_unique_name == LONG_GROUP)
        return Seeded(scim_group_id=scim_group.id, app_group_id=app_group.id, pushed_user_id=pushed.id)


def overflow(page) -> dict:
    """The document's width against the viewport's (a page that grew sideways has more)."""
    return page.evaluate(
        "({scroll: document.documentElement.scrollWidth, viewport: window.innerWidth,"
        " wide: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth + 0.5).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)})"
    )


def assert_fits(page, what: str) -> None:
    """No horizontal scrolling of the whole page."""
    measured = overflow(page)
    assert measured["scroll"] <= measured["viewport"], f"{what} grows sideways: {measured}"


def box(locator) -> dict:
    """The element's bounding box (x, y, width, height), asserted present."""
    found = locator.bounding_box()
    assert found is not None, locator
    return found


def intersect(a: dict, b: dict) -> bool:
    """True when two boxes overlap (touching edges do not count)."""
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def inside_viewport(page, found: dict) -> bool:
    """True when the box lies horizontally within the viewport."""
    width = page.evaluate("window.innerWidth")
    return found["x"] >= 0 and found["x"] + found["width"] <= width + 0.5
