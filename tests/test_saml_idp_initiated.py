"""IdP-initiated SAML sign-in ("Users log in ... from their IdP dashboard", issue 17).

Responses come from the development IdP's dashboard (``/dev-idp/start``) or are crafted and
signed for real with its key (``crafted_response(..., unsolicited=True)``): what is refused is the
defect under test, never a broken signature. An accepted one signs nobody in until the user
confirms it on our own page (login CSRF, see ``scimgate.web.saml_unsolicited``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from saml2 import samlp

from scimgate import cli
from scimgate import configuration_utils as cu
from scimgate.extensions import db
from scimgate.models import SamlUsedAssertion, User, utcnow
from scimgate.web import saml_unsolicited
from tests.support.config import lines_with
from tests.support.signin import (
    BASE_URL,
    add_admin,
    configure_dev_saml,
    confirm_token,
    crafted_response,
    dashboard_response,
    idp_response,
    password_sign_in,
    sibling_app,
)

ACS = f"{BASE_URL}/saml/acs"


@pytest.fixture
def other_app(app: Flask) -> Iterator[Flask]:
    other = sibling_app(app)
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _usernames(app: Flask) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(User.username)))


def _logged(log_dir: Path, response) -> list[str]:
    return lines_with(log_dir, "scim-info.log", response.headers["X-Request-Id"])


def _refused(
    client: FlaskClient, log_dir: Path, fields: dict[str, str], reason: str, heading="Sign-in failed"
):
    response = client.post("/saml/acs", data=fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 403, page
    assert heading in page
    assert client.get("/api/v1/session").status_code == 401
    logged = _logged(log_dir, response)
    assert any("signin.refused" in line and reason.lower() in line.lower() for line in logged), logged
    return response


def _confirmation(client: FlaskClient, fields: dict[str, str], username: str) -> str:
    """Post an unsolicited response: the answer is the confirmation page, nobody signed in yet."""
    response = client.post("/saml/acs", data=fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Continue signing in?" in page and f"Continue as {username}" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    cookie = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith(saml_unsolicited.COOKIE_NAME)
    )
    assert "SameSite=Strict" in cookie and "HttpOnly" in cookie
    assert client.get("/api/v1/session").status_code == 401
    return confirm_token(page)


def _at(delta: dt.timedelta) -> str:
    return (utcnow() + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the dashboard path ---------------------------------------------------------------------


def test_a_dashboard_sign_in_is_confirmed_then_signs_in(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    fields = dashboard_response(client, "alice", "/admin/users?page=2")
    token = _confirmation(client, fields, "alice")
    assert _usernames(app) == []  # nothing is created before the user confirms
    done = client.post("/saml/continue", data={"confirm_token": token})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert done.headers["Location"] == "/admin/users?page=2"
    assert client.get("/api/v1/session").get_json()["user"]["username"] == "alice"
    assert _usernames(app) == ["alice"]
    # The confirmation is used up with it.
    again = client.post("/saml/continue", data={"confirm_token": token})
    assert again.status_code == 403 and "Sign-in not confirmed" in again.get_data(as_text=True)


def test_without_relay_state_the_dashboard_sign_in_lands_on_the_account_page(
    app: Flask, client: FlaskClient
) -> None:
    configure_dev_saml(app)
    token = _confirmation(client, dashboard_response(client, "alice"), "alice")
    assert client.post("/saml/continue", data={"confirm_token": token}).headers["Location"] == "/account"


@pytest.mark.parametrize(
    "relay_state",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\t/evil.example",
        "/%2F%2Fevil.example",
        "/%252F%252Fevil.example",
        "javascript:alert(1)",
        "evil.example",
        "/" + "a" * 1200,
    ],
)
def test_a_hostile_relay_state_is_replaced_by_the_account_page(
    app: Flask, client: FlaskClient, relay_state: str
) -> None:
    configure_dev_saml(app)
    token = _confirmation(client, dashboard_response(client, "alice", relay_state), "alice")
    done = client.post("/saml/continue", data={"confirm_token": token})
    assert done.status_code == 302
    assert done.headers["Location"] == "/account"


def test_an_sp_initiated_sign_in_is_not_asked_to_confirm(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    fields = idp_response(client, "alice", "/account")
    assert client.post("/saml/acs", data=fields).status_code == 302
    assert client.get("/api/v1/session").get_json()["user"]["username"] == "alice"


# --- one use only, on any node --------------------------------------------------------------


def test_an_unsolicited_response_signs_in_once(app: Flask, client: FlaskClient, log_dir: Path) -> None:
    configure_dev_saml(app)
    fields = dashboard_response(client, "alice")
    _confirmation(client, fields, "alice")
    _refused(app.test_client(), log_dir, fields, "replayed assertion")


def test_a_second_use_on_another_app_instance_is_refused(app: Flask, other_app: Flask, log_dir: Path) -> None:
    configure_dev_saml(app)
    fields = dashboard_response(app.test_client(), "alice")
    _confirmation(other_app.test_client(), fields, "alice")
    _refused(app.test_client(), log_dir, fields, "replayed assertion")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SamlUsedAssertion)) == 1


def test_concurrent_uses_on_two_app_instances_sign_in_once(app: Flask, other_app: Flask) -> None:
    """The same response posted at the same moment to two instances: one confirmation page."""
    configure_dev_saml(app)
    fields = dashboard_response(app.test_client(), "alice")
    barrier = threading.Barrier(4)

    def post(instance: Flask) -> int:
        client = instance.test_client()
        barrier.wait()
        return client.post("/saml/acs", data=fields).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(post, [app, other_app, app, other_app]))
    assert sorted(statuses) == [200, 403, 403, 403], statuses


def test_an_sp_initiated_assertion_is_recorded_too(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    fields = idp_response(client, "alice")
    assert client.post("/saml/acs", data=fields).status_code == 302
    with app.app_context():
        row = db.session.scalars(sa.select(SamlUsedAssertion)).one()
        # Remembered until the assertion expires: no longer than its maximum age plus the skew.
        assert utcnow() < row.expires <= utcnow() + dt.timedelta(minutes=6, seconds=5)


def test_expired_rows_are_pruned_by_the_next_sign_in(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    with app.app_context():
        gone = utcnow() - dt.timedelta(seconds=1)
        db.session.add_all(SamlUsedAssertion(assertion_id=f"_old{i}", expires=gone) for i in range(50))
        db.session.commit()
    _confirmation(client, dashboard_response(client, "alice"), "alice")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SamlUsedAssertion)) == 1


# --- every check of a solicited response, on an unsolicited one -----------------------------


def _old(response: samlp.Response) -> None:
    """Issued ten minutes ago, although its validity window would still let it in."""
    response.issue_instant = response.assertion.issue_instant = _at(-dt.timedelta(minutes=10))
    response.assertion.conditions.not_on_or_after = _at(dt.timedelta(hours=1))
    for confirmation in response.assertion.subject.subject_confirmation:
        confirmation.subject_confirmation_data.not_on_or_after = _at(dt.timedelta(hours=1))


def _audience(response: samlp.Response) -> None:
    response.assertion.conditions.audience_restriction[0].audience[0].text = "https://other.example/sp"


def _recipient(response: samlp.Response) -> None:
    response.assertion.subject.subject_confirmation[
        0
    ].subject_confirmation_data.recipient = "https://other.example/saml/acs"


def _destination(response: samlp.Response) -> None:
    response.destination = "https://other.example/saml/acs"


def _no_destination(response: samlp.Response) -> None:
    response.destination = None


def _expired(response: samlp.Response) -> None:
    response.assertion.conditions.not_on_or_after = _at(-dt.timedelta(minutes=3))


def _not_yet_valid(response: samlp.Response) -> None:
    response.assertion.conditions.not_before = _at(dt.timedelta(minutes=10))


def _future(response: samlp.Response) -> None:
    response.issue_instant = response.assertion.issue_instant = _at(dt.timedelta(minutes=10))


def _answers_a_request(response: samlp.Response) -> None:
    response.assertion.subject.subject_confirmation[0].subject_confirmation_data.in_response_to = "id-stolen"


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (_old, "older than the maximum age"),
        (_audience, "audience"),
        (_recipient, "Recipient"),
        (_destination, "Destination 'https://other.example/saml/acs' is not our ACS"),
        (_no_destination, "has no Destination"),
        (_expired, "NotOnOrAfter window"),
        (_not_yet_valid, "NotOnOrAfter window"),
        (_future, "in the future"),
        (_answers_a_request, "its assertion answers request"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[1:] or None,
)
def test_a_defective_unsolicited_response_is_refused(
    app: Flask, client: FlaskClient, log_dir: Path, edit, reason: str
) -> None:
    configure_dev_saml(app)
    fields = crafted_response(app, client, "alice", edit=edit, unsolicited=True)
    _refused(client, log_dir, fields, reason)
    assert _usernames(app) == []


def test_the_crafted_unsolicited_response_is_accepted_without_a_defect(
    app: Flask, client: FlaskClient
) -> None:
    """The control of the test above: only the edit makes the difference."""
    configure_dev_saml(app)
    _confirmation(client, crafted_response(app, client, "alice", unsolicited=True), "alice")


def test_an_old_sp_initiated_response_is_refused_too(app: Flask, client: FlaskClient, log_dir: Path) -> None:
    configure_dev_saml(app)
    fields = crafted_response(app, client, "alice", edit=_old)
    _refused(client, log_dir, fields, "older than the maximum age")


def test_the_maximum_age_is_a_setting(app: Flask, client: FlaskClient, log_dir: Path) -> None:
    configure_dev_saml(app)
    app.config["SAML_MAX_AGE_SECONDS"] = 3600
    try:
        _confirmation(client, crafted_response(app, client, "alice", edit=_old, unsolicited=True), "alice")
    finally:
        del app.config["SAML_MAX_AGE_SECONDS"]


# --- the confirmation cannot be completed from elsewhere ------------------------------------


def test_continue_without_the_confirmation_cookie_is_refused(
    app: Flask, client: FlaskClient, log_dir: Path
) -> None:
    """A cross-site POST to /saml/continue arrives without the SameSite=Strict cookie."""
    configure_dev_saml(app)
    attacker = app.test_client()
    token = _confirmation(attacker, dashboard_response(attacker, "mallory"), "mallory")
    refused = client.post("/saml/continue", data={"confirm_token": token})
    assert refused.status_code == 403 and "Sign-in not confirmed" in refused.get_data(as_text=True)
    assert any("not confirmed" in line for line in _logged(log_dir, refused))
    assert client.get("/api/v1/session").status_code == 401
    assert _usernames(app) == []


@pytest.mark.parametrize("token", ["", "wrong", "x" * 43])
def test_continue_with_another_token_is_refused(app: Flask, client: FlaskClient, token: str) -> None:
    configure_dev_saml(app)
    _confirmation(client, dashboard_response(client, "alice"), "alice")
    refused = client.post("/saml/continue", data={"confirm_token": token})
    assert refused.status_code == 403
    assert client.get("/api/v1/session").status_code == 401


def test_a_forged_confirmation_cookie_is_refused(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    client.set_cookie(saml_unsolicited.COOKIE_NAME, "eyJ1IjoiYWRtaW4ifQ.forged.sig", path="/saml/")
    assert client.post("/saml/continue", data={"confirm_token": "forged"}).status_code == 403


def test_a_pending_sign_in_in_this_browser_does_not_skip_the_confirmation(
    app: Flask, client: FlaskClient
) -> None:
    """The binding cookie of an SP-initiated sign-in says nothing about an unsolicited response."""
    configure_dev_saml(app)
    idp_response(client, "alice")  # started at /saml/login: the binding cookie is set
    _confirmation(client, dashboard_response(app.test_client(), "mallory"), "mallory")


# --- turned off ----------------------------------------------------------------------------


def test_turned_off_an_unsolicited_response_is_refused(
    app: Flask, client: FlaskClient, log_dir: Path
) -> None:
    configure_dev_saml(app)
    with app.app_context():
        cu.set_saml_options(idp_initiated=False)
    fields = dashboard_response(client, "alice")
    response = _refused(client, log_dir, fields, "IdP-initiated sign-in", heading="dashboard is turned off")
    assert "turned off" in " ".join(_logged(log_dir, response))
    # SP-initiated sign-in still works.
    assert client.post("/saml/acs", data=idp_response(client, "alice")).status_code == 302


def test_turned_off_while_the_confirmation_was_open_it_is_refused(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    token = _confirmation(client, dashboard_response(client, "alice"), "alice")
    with app.app_context():
        cu.set_saml_options(idp_initiated=False)
    refused = client.post("/saml/continue", data={"confirm_token": token})
    assert refused.status_code == 403 and "turned off" in refused.get_data(as_text=True)
    assert _usernames(app) == []


def test_the_cli_turns_it_off_and_on_and_shows_it(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    runner = app.test_cli_runner()
    status = runner.invoke(cli.main, ["saml", "status"])
    assert "idp_initiated:  True" in status.output
    off = runner.invoke(cli.main, ["saml", "configure", "--no-idp-initiated"])
    assert off.exit_code == 0, off.output
    assert "IdP-initiated sign-in refused" in off.output
    assert "idp_initiated:  False" in runner.invoke(cli.main, ["saml", "status"]).output
    assert "False" in runner.invoke(cli.main, ["conf", "saml.idp_initiated"]).output
    assert "saml idp-init:   refused" in runner.invoke(cli.main, ["scim", "status"]).output
    assert client.post("/saml/acs", data=dashboard_response(client, "alice")).status_code == 403
    on = runner.invoke(cli.main, ["saml", "configure", "--idp-initiated"])
    assert on.exit_code == 0 and "IdP-initiated sign-in accepted" in on.output
    _confirmation(client, dashboard_response(client, "alice"), "alice")


def test_the_authentication_page_says_whether_it_is_on(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    with app.app_context():
        add_admin()
    assert password_sign_in(client, "admin").status_code == 302
    assert "sign-in from the IdP dashboard on" in client.get("/admin/authentication").get_data(as_text=True)
    with app.app_context():
        cu.set_saml_options(idp_initiated=False)
    assert "sign-in from the IdP dashboard off" in client.get("/admin/authentication").get_data(as_text=True)


def test_the_cli_refuses_options_before_saml_is_configured(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(cli.main, ["saml", "configure", "--no-idp-initiated"])
    assert result.exit_code == 1
    assert "SAML is not configured" in result.output
    nothing = runner.invoke(cli.main, ["saml", "configure"])
    assert nothing.exit_code != 0 and "nothing to configure" in nothing.output
