"""One time format everywhere (pages, CLI), ``/`` leading somewhere useful, and a locked profile that
tells each kind of account what is true for it. Through the Flask test client and the CLI runner."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from scimgate import cli
from scimgate import configuration_utils as cu
from scimgate.extensions import db
from scimgate.logs.activity import ScimActivity
from scimgate.web.timefmt import for_machines, for_people
from tests.support.config import PASSWORD, add_pushed_user
from tests.support.signin import add_admin, configure_dev_saml, password_sign_in, saml_sign_in

PEOPLE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
MACHINES = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"
TIME_ELEMENT = rf'<time datetime="({MACHINES})"[^>]*>({PEOPLE})</time>'


def test_the_two_forms_of_one_moment() -> None:
    naive = dt.datetime(2026, 12, 4, 7, 23, 5, 987654)
    assert for_people(naive) == "2026-12-04 07:23:05 UTC"
    assert for_machines(naive) == "2026-12-04T07:23:05+00:00"
    assert for_people("2026-12-04T07:23:05Z") == "2026-12-04 07:23:05 UTC"
    eastern = dt.datetime(2026, 12, 4, 2, 23, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert for_people(eastern) == "2026-12-04 07:23:05 UTC"
    assert for_people(None) == for_machines(None) == ""


def test_cli_prints_times_in_the_one_format(app: Flask, runner: FlaskCliRunner) -> None:
    generated = runner.invoke(cli.main, ["scim", "generate-token", "--months", "2"])
    assert generated.exit_code == 0, generated.output
    assert re.search(rf"expires {PEOPLE}; it will not", generated.output), generated.output
    with app.app_context():
        cu.set_scim_basic_auth_username("svc")
        cu.set_scim_basic_auth_password(PASSWORD)
    status = runner.invoke(cli.main, ["scim", "status"]).output
    assert re.search(rf"bearer token: +\S+ created {PEOPLE}, valid until {PEOPLE}\n", status), status
    assert re.search(rf"basic password: +<set> \(set {PEOPLE}\)", status), status
    conf = runner.invoke(cli.main, ["conf", "scim.basic_auth.password_hash"]).output
    assert re.fullmatch(rf"<set> \(set {PEOPLE}\)\n", conf), conf
    configure_dev_saml(app)
    saml = runner.invoke(cli.main, ["saml", "status"]).output
    assert re.search(rf"^configured_at: +{PEOPLE}$", saml, re.M), saml
    audit = runner.invoke(args=["audit"]).output.splitlines()
    assert audit and all(re.match(rf"{PEOPLE} cli:", line) for line in audit), audit


def test_pages_show_times_as_time_elements_in_the_one_format(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    with app.app_context():
        add_admin()
        cu.generate_scim_bearer_token(1)
        info = cu.get_scim_bearer_token()
        db.session.add(
            ScimActivity(
                at=dt.datetime(2026, 12, 4, 7, 23, 5),
                method="GET",
                path="/scim/v2/Users",
                status=200,
                duration_ms=1.5,
                request_id="req-1",
            )
        )
        db.session.commit()
    password_sign_in(client, "admin")
    html = client.get("/admin/authentication").get_data(as_text=True)
    created = re.search(rf'id="token-created">{TIME_ELEMENT}', html)
    expires = re.search(rf'id="token-expires">{TIME_ELEMENT}', html)
    assert created and expires, html
    assert expires.groups() == (for_machines(info["expires"]), for_people(info["expires"]))
    activity = client.get("/admin/activity").get_data(as_text=True)
    assert '<time datetime="2026-12-04T07:23:05+00:00"' in activity
    assert ">2026-12-04 07:23:05 UTC</time>" in activity
    assert "Time (UTC)" not in activity  # each time states its zone itself


def test_root_sends_anonymous_visitors_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_root_sends_signed_in_people_to_their_account_page(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    saml_sign_in(client, "viewer")
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert client.get("/", follow_redirects=True).status_code == 200


def test_locked_profile_of_a_saml_only_user_does_not_claim_the_idp_updates_it(
    app: Flask, client: FlaskClient
) -> None:
    configure_dev_saml(app, scim=True)
    saml_sign_in(client, "samlonly")  # created at sign-in: never pushed by SCIM
    html = client.get("/profile").get_data(as_text=True)
    assert 'id="display_name"' in html and "readonly" in html
    assert "keeps these fields up to date" not in html
    note = re.search(r'<p class="muted" id="locked-note">(.*?)</p>', html, re.S)
    assert note, html
    assert "not pushed by your identity provider" in note.group(1)
    assert "scimgate scim disable" not in note.group(1)  # a user cannot run commands: say what is true


def test_locked_profile_of_a_scim_user_says_the_idp_keeps_it_up_to_date(
    app: Flask, client: FlaskClient
) -> None:
    configure_dev_saml(app, scim=True)
    with app.app_context():
        add_pushed_user("bjensen")
    saml_sign_in(client, "bjensen")
    html = client.get("/profile").get_data(as_text=True)
    note = re.search(r'<p class="muted" id="locked-note">(.*?)</p>', html, re.S)
    assert note and "Your identity provider keeps these fields up to date" in note.group(1), html


def test_profile_of_a_saml_only_user_is_editable_with_sync_off(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app, scim=True)
    with app.app_context():
        cu.disable_sync_from_directory_provider()
    saml_sign_in(client, "samlonly")
    html = client.get("/profile").get_data(as_text=True)
    assert 'id="locked-note"' not in html and 'id="save-profile"' in html
