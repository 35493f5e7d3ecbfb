"""End-to-end flows in a real browser (Chromium): the reference's token workflow, a SCIM-pushed
user signing in through the development IdP, the policies as admins see them, and the activity
page. Each test saves screenshots of its pages under artifacts/screenshots/."""

from __future__ import annotations

import re

import httpx2
import pytest
from flask import Flask
from playwright.sync_api import expect

from scimgate import configuration_utils as cu
from scimgate.web.timefmt import for_people
from tests.support.browser import configure_live_scim, sign_in_with_password
from tests.support.signin import ADMIN_PASSWORD, add_admin

pytestmark = [pytest.mark.browser, pytest.mark.slow]

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


def scim_get(live_url: str, token: str) -> int:
    """Status of a SCIM list request made with ``token``."""
    with httpx2.Client(base_url=live_url, timeout=10) as http:
        return http.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}).status_code


def generate_in_dialog(page, months: str, *, replacing: bool = False) -> str:
    """Choose the validity, click Generate Token (and, ``replacing`` a token in use, confirm),
    return the token the dialog shows."""
    page.get_by_label("Token expiration").select_option(months)
    page.get_by_role("button", name="Generate Token").click()
    if replacing:
        page.get_by_role("button", name="Generate a new token").click()
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    # the page's script makes the server-rendered dialog modal once it has loaded
    page.wait_for_function("document.querySelector('#token-dialog').matches(':modal')")
    expect(dialog).to_contain_text("The token will never be displayed again.")
    token = page.locator("#new-token").input_value()
    assert len(token) >= 32
    return token


def test_admin_generates_copies_and_rotates_the_scim_token(app: Flask, live_url, new_context, shot) -> None:
    configure_live_scim(app, live_url, bearer=False)
    with app.app_context():
        add_admin("admin")
    page = new_context().new_page()

    page.goto("/admin/authentication")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin/authentication$"))
    shot(page, "01-login")
    sign_in_with_password(page, "admin", ADMIN_PASSWORD)
    expect(page.locator("#no-token")).to_have_text("No token has been generated yet.")
    options = page.locator("#token-months option").all_inner_texts()
    assert options == ["1 month", "2 months", "3 months", "4 months", "5 months", "6 months"]
    shot(page, "02-authentication-no-token")

    first = generate_in_dialog(page, "3")
    shot(page, "03-token-dialog")
    page.get_by_role("dialog").get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == first

    page.get_by_role("link", name="Close").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page).to_have_url(f"{live_url}/admin/authentication")
    with app.app_context():
        info = cu.get_scim_bearer_token()
    expect(page.locator("#token-fingerprint")).to_have_text(info["fingerprint"])
    expect(page.locator("#token-expires")).to_contain_text(for_people(info["expires"]))
    assert first not in page.content()
    page.go_back()  # the dialog's page was replaced in history: Back never shows the token
    assert first not in page.content()
    page.goto("/admin/authentication")
    shot(page, "04-authentication-token-set")

    assert scim_get(live_url, first) == 200

    second = generate_in_dialog(page, "1", replacing=True)
    assert second != first
    page.keyboard.press("Escape")  # Esc closes the dialog like Close does
    expect(page).to_have_url(f"{live_url}/admin/authentication")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.wait_for_load_state()
    assert second not in page.content()
    assert scim_get(live_url, first) == 401
    assert scim_get(live_url, second) == 200


def test_scim_user_signs_in_with_saml_and_admin_sees_the_policies(
    app: Flask, live_url, new_context, shot
) -> None:
    token = configure_live_scim(app, live_url)
    with app.app_context():
        add_admin("admin")
        add_admin("ops")  # a second built-in account: not pushed from the IdP
    with httpx2.Client(base_url=live_url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
        created = http.post(
            "/scim/v2/Users",
            json={
                "schemas": [USER_SCHEMA],
                "userName": "bjensen",
                "displayName": "Barbara Jensen",
                "name": {"givenName": "Barbara", "familyName": "Jensen"},
                "emails": [{"value": "bjensen@example.com", "primary": True}],
                "active": True,
            },
        )
        assert created.status_code == 201
        listed = http.get("/scim/v2/Users", params={"filter": 'userName eq "bjensen"'})
        assert listed.status_code == 200
        refused = http.get("/scim/v2/Users", headers={"Authorization": "Bearer not-the-token"})
        assert refused.status_code == 401

    user = new_context().new_page()
    user.goto("/saml/login?next=/profile")
    expect(user).to_have_url(re.compile(r"/dev-idp/sso\?"))
    shot(user, "05-dev-idp-sign-in")
    user.get_by_label("Username").fill("bjensen")
    user.get_by_role("button", name="Sign in").click()
    user.wait_for_url(f"{live_url}/profile")
    display_name = user.get_by_label("Display Name")
    email = user.get_by_label("Email")
    expect(display_name).to_have_value("Barbara Jensen")
    expect(email).to_have_value("bjensen@example.com")
    expect(display_name).not_to_be_editable()
    expect(email).not_to_be_editable()
    display_tip = user.locator("#display-name-tip")
    expect(display_tip).to_be_hidden()
    display_name.hover()
    expect(display_tip).to_be_visible()
    expect(display_tip).to_have_text("The Display Name is supplied using an automatic process")
    expect(display_name).to_have_accessible_description(
        "The Display Name is supplied using an automatic process"
    )
    shot(user, "06-profile-locked-display-name")
    email.hover()
    expect(user.locator("#email-tip")).to_be_visible()
    expect(user.locator("#email-tip")).to_have_text("Contact your directory admin to change the email")
    shot(user, "07-profile-locked-email")

    admin = new_context().new_page()
    sign_in_with_password(admin, "admin", ADMIN_PASSWORD, start="/admin/users")
    pushed_row = admin.locator("tr[data-username='bjensen']")
    expect(pushed_row).to_contain_text("SCIM")
    suspend = pushed_row.get_by_role("button", name="Suspend")
    expect(suspend).to_be_disabled()
    pushed_row.locator(".has-tip").hover()
    reason = pushed_row.get_by_role("tooltip")
    expect(reason).to_be_visible()
    expect(reason).to_contain_text("pushed from the IdP and SCIM sync is enabled")
    shot(admin, "08-users-suspend-disabled-for-scim-user")
    builtin_row = admin.locator("tr[data-username='ops']")
    expect(builtin_row).to_contain_text("Built-in")
    expect(builtin_row.get_by_role("button", name="Suspend")).to_be_enabled()
    builtin_row.get_by_role("button", name="Suspend").click()
    expect(admin.get_by_role("status")).to_contain_text("ops is suspended.")
    expect(admin.locator("tr[data-username='ops']")).to_contain_text("Suspended")
    admin.locator("tr[data-username='ops']").get_by_role("button", name="Activate").click()
    expect(admin.locator("tr[data-username='ops']")).to_contain_text("Active")

    admin.get_by_role("link", name="SCIM activity").click()
    requests = admin.locator("#requests tbody tr")
    expect(requests).to_have_count(3)
    expect(requests.nth(2)).to_contain_text("POST")
    expect(requests.nth(2)).to_contain_text("201")
    expect(requests.nth(2)).to_contain_text(created.headers["X-Request-Id"])
    expect(requests.nth(1)).to_contain_text(listed.headers["X-Request-Id"])
    expect(requests.nth(0)).to_contain_text("401")
    expect(admin.locator("#events")).to_contain_text("user.created")
    shot(admin, "09-activity")
    admin.get_by_label("Status").select_option("errors")
    admin.get_by_role("button", name="Filter").click()
    expect(admin.locator("#requests tbody tr")).to_have_count(1)
    expect(admin.locator("#requests tbody tr")).to_contain_text(refused.headers["X-Request-Id"])
    shot(admin, "10-activity-failed-only")


def test_admin_groups_and_settings_pages(app: Flask, live_url, new_context, shot) -> None:
    token = configure_live_scim(app, live_url)
    with app.app_context():
        add_admin("admin")
    with httpx2.Client(base_url=live_url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
        user = http.post(
            "/scim/v2/Users", json={"schemas": [USER_SCHEMA], "userName": "bjensen", "active": True}
        )
        member = {"value": user.json()["id"]}
        group = http.post(
            "/scim/v2/Groups",
            json={"schemas": [GROUP_SCHEMA], "displayName": "Okta Admins", "members": [member]},
        )
        assert group.status_code == 201

    page = new_context().new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the delete confirmation
    sign_in_with_password(page, "admin", ADMIN_PASSWORD, start="/admin/groups")
    page.get_by_label("Name", exact=True).fill("Data Stewards")
    page.locator("#group-new-role").select_option("steward")
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Data Stewards")
    page.get_by_label("Add by username").fill("bjensen")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#members")).to_contain_text("bjensen")
    shot(page, "11-group-defined-in-app")
    page.get_by_label("New name").fill("Stewards")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stewards")

    page.get_by_role("link", name="Groups", exact=True).click()
    scim_row = page.locator("tr[data-name='Okta Admins']")
    expect(scim_row).to_contain_text("SCIM (read-only)")
    scim_row.get_by_label("Role of Okta Admins").select_option("server_admin")
    scim_row.get_by_role("button", name="Set").click()
    expect(page.get_by_role("status")).to_contain_text("Okta Admins: Server Admin")
    shot(page, "12-groups")
    page.get_by_role("link", name="Okta Admins").click()
    expect(page.get_by_role("button", name="Delete group")).to_be_disabled()
    expect(page.locator("#rename")).to_have_count(0)
    page.locator(".danger-zone .has-tip").hover()
    expect(page.locator("#delete-tip")).to_contain_text("SCIM groups cannot be created or deleted manually")
    shot(page, "13-scim-group-read-only")

    page.goto("/admin/groups")
    page.get_by_role("link", name="Stewards").click()
    page.get_by_role("button", name="Delete group").click()
    expect(page.get_by_role("status")).to_contain_text("Group Stewards deleted.")

    page.get_by_label("Name", exact=True).fill("Administrators")
    page.locator("#group-new-role").select_option("server_admin")
    page.get_by_role("button", name="Create group").click()
    page.get_by_label("Add by username").fill("admin")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#members")).to_contain_text("admin")

    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_label("Moderate account sign-ups")).to_be_disabled()
    expect(page.get_by_label("Use Custom Groups to manage user suspension and activation")).to_be_disabled()
    expect(page.locator("#custom_groups_manage_activation-reason")).to_contain_text(
        "cannot be enabled when the automatic identity management process is in use"
    )
    assign = page.get_by_label("Use Groups to Assign Roles")
    expect(assign).to_be_enabled()
    assign.check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved.")
    expect(page.get_by_label("Use Groups to Assign Roles")).to_be_checked()
    shot(page, "14-settings")

    page.get_by_role("link", name="Users", exact=True).click()
    expect(page.locator("tr[data-username='admin']")).to_contain_text("Server Admin")
    expect(page.locator("tr[data-username='admin'] select")).to_have_count(0)
    shot(page, "15-users-roles-from-groups")
    page.get_by_role("link", name="Authentication", exact=True).click()
    expect(page.locator("#scim-status")).to_contain_text("scimgate scim disable")
    shot(page, "16-authentication-status")
