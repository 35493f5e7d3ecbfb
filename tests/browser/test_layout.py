"""Pages that hold up (issue #17), in Chromium: with the longest legal values (a 1000-character group
name, a 254-character email, a 150-character username, a 200-character display name) no page grows
sideways at 1280 px or at a phone's 390 px, the full value stays available, the Actions column stays
on screen, tooltips never cover the control they explain, times show the reader's local time on
hover, ``/`` leads to sign-in or the account page, and the CSV export downloads. Screenshots of each
state go to artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.support.browser import configure_live_scim, sign_in_with_password
from tests.support.browser_layout import (
    LONG_ADMIN,
    LONG_APP_GROUP,
    LONG_DISPLAY_NAME,
    LONG_EMAIL,
    LONG_GROUP,
    LONG_USERNAME,
    WIDTHS,
    assert_fits,
    box,
    inside_viewport,
    intersect,
    seed_long_values,
)
from tests.support.signin import ADMIN_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def seeded(app: Flask, live_url: str):
    """SCIM on (SAML through the development IdP) and the long values in every table."""
    token = configure_live_scim(app, live_url)
    return seed_long_values(app, live_url, token)


def admin_page(new_context, width: int):
    """A page in a fresh context ``width`` px wide, signed in as the long-named Server Admin."""
    context = new_context()
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 860})
    sign_in_with_password(page, LONG_ADMIN, ADMIN_PASSWORD, start="/admin/users")
    return page


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_no_page_grows_sideways_with_long_values(seeded, new_context, shot, width_name: str) -> None:
    width = WIDTHS[width_name]
    anonymous = new_context().new_page()
    anonymous.set_viewport_size({"width": width, "height": 860})
    anonymous.goto("/login")
    assert_fits(anonymous, "/login")
    shot(anonymous, f"layout-{width_name}-login")

    page = admin_page(new_context, width)
    pages = {
        "users": "/admin/users",
        "groups": "/admin/groups",
        "scim-group": f"/admin/groups/{seeded.scim_group_id}",
        "app-group": f"/admin/groups/{seeded.app_group_id}",
        "activity": "/admin/activity?events=all",
        "activity-failed": "/admin/activity?status=errors&method=POST&resource=Users&since=2020-01-01",
        "activity-bad-filters": f"/admin/activity?method={'M' * 300}&since={'9' * 300}",
        "user": f"/admin/users/{seeded.pushed_user_id}",
        "authentication": "/admin/authentication",
        "settings": "/admin/settings",
        "profile": "/profile",
        "account": "/account",
        "error": "/admin/groups/999999",
    }
    for name, path in pages.items():
        page.goto(path)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # reasons shown
        assert_fits(page, path)
        shot(page, f"layout-{width_name}-{name}")

    page.goto("/admin/users")
    expect(page.locator("#users tbody tr")).to_have_count(2)
    for row in page.locator("#users tbody tr").all():
        assert inside_viewport(page, box(row.locator("td.actions"))), "Actions column off screen"
        assert inside_viewport(page, box(row.locator("td.actions button"))), "action button off screen"
    pushed = page.locator(f"tr[data-username='{LONG_USERNAME}']")
    expect(pushed.locator("th .clip")).to_have_attribute("title", LONG_USERNAME)
    expect(pushed.locator("td.email .clip")).to_have_attribute("title", LONG_EMAIL)
    expect(pushed.locator("td.display-name .clip")).to_have_attribute("title", LONG_DISPLAY_NAME)

    page.goto("/admin/groups")
    for row in page.locator("#groups tbody tr").all():
        assert inside_viewport(page, box(row.locator("td.actions"))), "Actions column off screen"
    link = page.locator(f"tr[data-name='{LONG_GROUP}'] th a")
    expect(link).to_have_attribute("title", LONG_GROUP)
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(LONG_GROUP)  # the whole name, wrapped
    assert_fits(page, "group page")

    page.goto(f"/admin/groups/{seeded.app_group_id}")
    expect(page.get_by_label("New name")).to_have_value(LONG_APP_GROUP)
    assert inside_viewport(page, box(page.get_by_role("button", name="Rename")))
    members = page.locator("#members tbody tr")
    expect(members).to_have_count(2)
    for row in members.all():
        assert inside_viewport(page, box(row.get_by_role("button", name="Remove")))

    page.get_by_label("Add by username").fill("z" * 150)  # nobody: the refusal names it in full
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#error-message")).to_contain_text("z" * 150)
    assert_fits(page, "a refusal naming a long username")
    shot(page, f"layout-{width_name}-refusal")

    page.goto("/profile")
    expect(page.get_by_label("Email")).to_have_value(LONG_EMAIL)
    assert inside_viewport(page, box(page.get_by_label("Email")))
    expect(page.locator(".who")).to_have_attribute("title", re.compile(re.escape(LONG_ADMIN)))


def _hover_tip(page, trigger, tip, control, what: str) -> None:
    trigger.hover()
    expect(tip).to_be_visible()
    tip_box, control_box = box(tip), box(control)
    assert not intersect(tip_box, control_box), f"{what}: the tooltip covers its control"
    assert inside_viewport(page, tip_box), f"{what}: the tooltip leaves the screen"
    assert_fits(page, f"{what} with its tooltip shown")


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_tooltips_never_cover_the_control_they_explain(
    app: Flask, live_url, seeded, new_context, shot, width_name: str
) -> None:
    width = WIDTHS[width_name]
    user = new_context().new_page()
    user.set_viewport_size({"width": width, "height": 860})
    user.goto("/saml/login?next=/profile")
    user.get_by_label("Username").fill(LONG_USERNAME)
    user.get_by_role("button", name="Sign in").click()
    user.wait_for_url(f"{live_url}/profile")
    for field, tip in (("display_name", "display-name-tip"), ("email", "email-tip")):
        control = user.locator(f"#{field}")
        _hover_tip(user, control, user.locator(f"#{tip}"), control, f"profile {field}")
        shot(user, f"tooltip-{width_name}-profile-{field}")
        user.mouse.move(0, 0)

    page = admin_page(new_context, width)
    row = page.locator(f"tr[data-username='{LONG_USERNAME}']")
    trigger = row.locator(".has-tip")
    trigger.scroll_into_view_if_needed()
    _hover_tip(
        page, trigger, row.get_by_role("tooltip"), row.get_by_role("button", name="Suspend"), "Suspend"
    )
    shot(page, f"tooltip-{width_name}-users-suspend")

    page.goto(f"/admin/groups/{seeded.scim_group_id}")
    name = page.locator("#name-heading + p .has-tip")
    name.scroll_into_view_if_needed()
    _hover_tip(page, name, page.locator("#rename-tip"), page.locator("#group-name"), "SCIM group name")
    page.mouse.move(0, 0)
    delete = page.locator(".danger-zone .has-tip")
    delete.scroll_into_view_if_needed()
    _hover_tip(page, delete, page.locator("#delete-tip"), delete.get_by_role("button"), "Delete group")
    shot(page, f"tooltip-{width_name}-group-delete")


def test_times_show_the_readers_local_time_on_hover(chromium, live_url, seeded, new_context, shot) -> None:
    context = chromium.new_context(base_url=live_url, timezone_id="Asia/Kolkata", locale="en-GB")
    try:
        page = context.new_page()
        sign_in_with_password(page, LONG_ADMIN, ADMIN_PASSWORD, start="/admin/activity")
        first = page.locator("#requests tbody tr").first.locator("time")
        text = first.inner_text()
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text), text
        stamp = first.get_attribute("datetime")
        expected = page.evaluate(
            "(s) => new Date(s).toLocaleString(undefined, {hour: '2-digit', minute: '2-digit'})", stamp
        )
        title = first.get_attribute("title")
        assert title.startswith("Your local time:") and expected in title, (title, expected)
        assert "GMT+5:30" in title or "IST" in title, title  # the reader's zone, named
        page.goto("/admin/authentication")
        expect(page.locator("#token-expires time")).to_have_attribute("title", re.compile("Your local time"))
        shot(page, "times-authentication")
    finally:
        context.close()


def test_root_leads_to_sign_in_or_the_account_page(seeded, new_context) -> None:
    page = new_context().new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in_with_password(page, LONG_ADMIN, ADMIN_PASSWORD, start="/profile")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Signed in as")


def test_export_csv_downloads_from_the_users_page(seeded, new_context, tmp_path) -> None:
    context = new_context()
    page = context.new_page()
    sign_in_with_password(page, LONG_ADMIN, ADMIN_PASSWORD, start="/admin/users")
    page.get_by_label("Kind").select_option("scim")
    page.get_by_role("button", name="Search").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert re.fullmatch(r"scimgate-users-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    lines = saved.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Username,Display name,Email")
    assert len(lines) == 2 and lines[1].startswith(LONG_USERNAME)


def test_a_saml_only_users_locked_profile_says_what_is_true(live_url, seeded, new_context, shot) -> None:
    page = new_context().new_page()
    page.goto("/saml/login?next=/profile")
    page.get_by_label("Username").fill("saml.only")  # created at sign-in: never pushed over SCIM
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_url}/profile")
    expect(page.get_by_label("Display Name")).not_to_be_editable()
    note = page.locator("#locked-note")
    expect(note).to_contain_text("locked while SCIM sync is on")
    expect(note).to_contain_text("not pushed by your identity provider")
    expect(page.locator("main")).not_to_contain_text("keeps these fields up to date")
    shot(page, "profile-saml-only-locked")
