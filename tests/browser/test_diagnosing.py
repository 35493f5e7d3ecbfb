"""Diagnosing in Chromium (issue 17): a failed request's reason opens in place on the SCIM activity
page, a path's id shows the user's name and leads to the user's page, whose history leads back to
the request; the filters combine and survive paging; the group page shows its facts and history.
Screenshots of each state go to artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

import re

import httpx2
import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.support.activity import group_body, user_body
from tests.support.browser import configure_live_scim, sign_in_with_password
from tests.support.signin import ADMIN_PASSWORD, add_admin

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def pushed(app: Flask, live_url: str) -> dict[str, str]:
    """Through SCIM at the live server: alice created (with a group), a refused duplicate, a read
    of alice, a read of an id that names nobody; and a built-in admin."""
    token = configure_live_scim(app, live_url)
    with httpx2.Client(base_url=live_url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
        created = http.post("/scim/v2/Users", json=user_body("alice", externalId="okta-00u1"))
        assert created.status_code == 201, created.text
        scim_id = created.json()["id"]
        assert http.post("/scim/v2/Groups", json=group_body("Okta Stewards", [scim_id])).status_code == 201
        refused = http.post("/scim/v2/Users", json=user_body("alice"))
        assert refused.status_code == 409
        assert http.get(f"/scim/v2/Users/{scim_id}").status_code == 200
        assert http.get("/scim/v2/Users/00000000-0000-0000-0000-000000000000").status_code == 404
    with app.app_context():
        add_admin()
    return {
        "scim_id": scim_id,
        "created": created.headers["X-Request-Id"],
        "refused": refused.headers["X-Request-Id"],
    }


def test_a_failure_opens_in_place_and_leads_to_the_user_and_back(
    pushed: dict[str, str], new_context, shot
) -> None:
    page = new_context().new_page()
    sign_in_with_password(page, "admin", ADMIN_PASSWORD, start="/admin/activity")
    failed = page.locator('#requests tr[data-status="409"]')
    reason = failed.locator(".reason-text")
    expect(reason).to_be_hidden()
    failed.get_by_text("Why it failed").click()
    expect(reason).to_be_visible()
    expect(reason).to_contain_text("409 uniqueness: userName 'alice' is already in use")
    expect(page).to_have_url(re.compile(r"/admin/activity$"))  # no navigation
    shot(page, "diagnosing-activity-failure")

    read = page.locator('#requests tr[data-status="200"]').filter(has_text=pushed["scim_id"])
    expect(read.locator(".resource-name a")).to_have_text("alice")
    expect(page.locator('#requests tr[data-status="404"] .resource-name')).to_have_text("(not found)")
    created = page.locator("#requests tr").filter(has=page.locator(f"code:text-is('{pushed['created']}')"))
    expect(created.locator(".events-link")).to_have_text("1 event")

    read.locator(".resource-name a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("alice")
    expect(page.locator("#kind")).to_contain_text("SCIM")
    expect(page.locator("#scim-id")).to_have_text(pushed["scim_id"])
    expect(page.locator("#external-id")).to_have_text("okta-00u1")
    expect(page.locator("#groups a")).to_have_text(["Okta Stewards"])
    expect(page.locator("#role-source")).to_have_text("assigned directly")
    expect(page.locator("#history tbody tr")).to_have_count(1)
    expect(page.locator('nav a[aria-current="page"]')).to_have_text("Users")
    shot(page, "diagnosing-user-page")

    page.locator("#history a.request-link").click()
    expect(page).to_have_url(re.compile(rf"/admin/activity\?request={pushed['created']}$"))
    expect(page.locator("#requests tbody tr")).to_have_count(1)
    expect(page.locator("#events tbody tr")).to_have_count(1)
    expect(page.locator("#events")).to_contain_text("user.created")
    shot(page, "diagnosing-activity-of-one-request")

    page.locator("#requests .events-link").click()  # the request's own link to its events
    expect(page.locator("#events")).to_contain_text("user.created")

    page.goto("/admin/users")
    page.get_by_role("link", name="alice").click()
    expect(page).to_have_url(re.compile(r"/admin/users/\d+$"))
    page.get_by_role("link", name="Okta Stewards").click()
    expect(page.locator("#member-count")).to_have_text("1")
    expect(page.locator("#scim-id")).not_to_contain_text("none")
    expect(page.locator("#history tbody tr")).to_have_count(1)
    shot(page, "diagnosing-group-page")


def test_the_filters_combine_and_explain_what_they_ignore(pushed: dict[str, str], new_context, shot) -> None:
    page = new_context().new_page()
    sign_in_with_password(page, "admin", ADMIN_PASSWORD, start="/admin/activity")
    page.get_by_label("Status").select_option("errors")
    page.get_by_label("Method").select_option("POST")
    page.get_by_label("Resource").select_option("Users")
    page.get_by_label("Since (UTC)").fill("2020-01-01 00:00")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=errors.*method=POST.*resource=Users"))
    expect(page.locator("#requests tbody tr")).to_have_count(1)
    expect(page.locator("#requests tbody tr")).to_have_attribute("data-status", "409")
    expect(page.get_by_label("Method")).to_have_value("POST")
    expect(page.get_by_label("Since (UTC)")).to_have_value("2020-01-01 00:00")
    expect(page.locator("#export-csv")).to_have_attribute("href", re.compile(r"method=POST"))
    shot(page, "diagnosing-activity-filtered")

    page.goto("/admin/activity?method=TRACE&since=yesterday")
    expect(page.locator("#filter-problems")).to_contain_text("Method 'TRACE' is not one of")
    expect(page.locator("#filter-problems")).to_contain_text("Since 'yesterday' is not a time")
    expect(page.locator("#requests tbody tr")).to_have_count(5)  # nothing filtered away
    shot(page, "diagnosing-activity-bad-filters")
    page.get_by_role("link", name="Clear filters").click()
    expect(page.locator("#filter-problems")).to_have_count(0)
