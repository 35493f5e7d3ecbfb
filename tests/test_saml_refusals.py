"""SAML responses scimgate must refuse although pysaml2 would accept them, or that used to 500.

Each defect is carried by a response signed for real with the development IdP's key (see
``crafted_response``): what is refused is the defect, never a broken signature. Every refusal
is the sign-in refusal page (403), signs nobody in, and leaves a reason in scim-info.log.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from saml2 import samlp
from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1, SIG_RSA_SHA256

from scimgate import cli
from scimgate import configuration_utils as cu
from scimgate.conf import saml as saml_config
from scimgate.extensions import db
from scimgate.models import SamlOutstandingRequest, User
from scimgate.signin import dev_idp, saml_sp
from scimgate.web import saml_binding
from tests.support.config import add_pushed_user, lines_with
from tests.support.signin import (
    BASE_URL,
    add_admin,
    binding_cookie,
    configure_dev_saml,
    crafted_response,
    give_binding_cookie,
    idp_response,
    saml_sign_in,
)

ACS = f"{BASE_URL}/saml/acs"


def _usernames(app: Flask) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(User.username)))


def _refused(app: Flask, client: FlaskClient, log_dir: Path, fields: dict[str, str], reason: str) -> str:
    """Post ``fields`` to the ACS; check the refusal page, nobody signed in, and the logged reason."""
    response = client.post("/saml/acs", data=fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 403, page
    assert "Sign-in failed" in page
    assert client.get("/api/v1/session").status_code == 401
    logged = lines_with(log_dir, "scim-info.log", response.headers["X-Request-Id"])
    assert any("signin.refused" in line and reason.lower() in line.lower() for line in logged), logged
    return page


# --- the sign-in is bound to the browser that started it -------------------------------------


def test_a_response_posted_from_another_browser_is_refused(app: Flask, log_dir: Path) -> None:
    """Login CSRF: the attacker's own response, auto-posted by a page into the victim's browser."""
    configure_dev_saml(app)
    attacker, victim = app.test_client(), app.test_client()
    fields = idp_response(attacker, "mallory")
    _refused(app, victim, log_dir, fields, "which this browser did not start")
    assert _usernames(app) == []
    # The victim's own pending sign-in does not make the attacker's response acceptable either.
    idp_response(victim, "victim")
    _refused(app, victim, log_dir, fields, "which this browser did not start")
    # Nothing of the attacker's request was consumed: it still works in the browser that started it.
    assert attacker.post("/saml/acs", data=fields).status_code == 302
    assert _usernames(app) == ["mallory"]


def test_a_forged_binding_cookie_is_refused(app: Flask, log_dir: Path) -> None:
    configure_dev_saml(app)
    attacker, victim = app.test_client(), app.test_client()
    fields = idp_response(attacker, "mallory")
    give_binding_cookie(victim, "0" * 64)
    _refused(app, victim, log_dir, fields, "which this browser did not start")


def test_binding_cookie_is_httponly_short_lived_and_cleared(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    started = client.get("/saml/login")
    cookie = started.headers["Set-Cookie"]
    assert cookie.startswith(f"{saml_binding.COOKIE_NAME}=")
    for attribute in ("HttpOnly", "Path=/saml/acs", "Max-Age=600", "SameSite=Lax"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http: SameSite=None would be dropped without Secure
    fields = idp_response(client, "alice")
    assert binding_cookie(client) is not None
    assert client.post("/saml/acs", data=fields).status_code == 302
    assert binding_cookie(client) is None


def test_over_https_the_binding_cookie_survives_the_idps_cross_site_post(
    app: Flask, client: FlaskClient
) -> None:
    configure_dev_saml(app)
    with app.app_context():
        cu.configure_saml(dev_idp.idp_metadata(BASE_URL), base_url="https://scim.example.com")
    cookie = client.get("/saml/login", base_url="https://scim.example.com").headers["Set-Cookie"]
    for attribute in ("SameSite=None", "Secure", "HttpOnly", "Path=/saml/acs"):
        assert attribute in cookie


# --- checks pysaml2 skips ----------------------------------------------------------------------


def _recipient(value: str | None):
    def edit(response: samlp.Response) -> None:
        for confirmation in response.assertion.subject.subject_confirmation:
            confirmation.subject_confirmation_data.recipient = value

    return edit


def _no_destination(response: samlp.Response) -> None:
    response.destination = None


def test_a_correctly_crafted_response_is_accepted(app: Flask, client: FlaskClient) -> None:
    """The control: the hand-built response is valid, so the refusals below are the defects'."""
    configure_dev_saml(app)
    assert client.post("/saml/acs", data=crafted_response(app, client, "alice")).status_code == 302
    assert client.get("/api/v1/session").get_json()["user"]["username"] == "alice"


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (
            _recipient("https://attacker.example/acs"),
            "Recipient 'https://attacker.example/acs' is not our ACS",
        ),
        (_recipient(None), "recipient"),  # pysaml2 refuses this one itself
        (_no_destination, "signed but has no Destination"),
    ],
    ids=["wrong_recipient", "no_recipient", "no_destination"],
)
def test_misaddressed_responses_are_refused(
    app: Flask, client: FlaskClient, log_dir: Path, edit, reason: str
) -> None:
    configure_dev_saml(app)
    _refused(app, client, log_dir, crafted_response(app, client, "alice", edit=edit), reason)
    assert _usernames(app) == []


def test_destination_may_be_absent_when_only_the_assertion_is_signed(app: Flask, client: FlaskClient) -> None:
    """SAML bindings 3.5.5.2 requires Destination on signed messages only."""
    configure_dev_saml(app)
    fields = crafted_response(app, client, "alice", edit=_no_destination, sign_response=False)
    assert client.post("/saml/acs", data=fields).status_code == 302


@pytest.mark.parametrize(
    ("sign_alg", "digest_alg", "refused"),
    [(SIG_RSA_SHA1, DIGEST_SHA1, SIG_RSA_SHA1), (SIG_RSA_SHA256, DIGEST_SHA1, DIGEST_SHA1)],
    ids=["rsa_sha1", "sha1_digest"],
)
def test_sha1_is_refused_unless_an_admin_allows_it(
    app: Flask,
    client: FlaskClient,
    log_dir: Path,
    tmp_path: Path,
    sign_alg: str,
    digest_alg: str,
    refused: str,
) -> None:
    configure_dev_saml(app)
    metadata = tmp_path / "idp-metadata.xml"
    metadata.write_text(dev_idp.idp_metadata(BASE_URL), encoding="utf-8")
    fields = crafted_response(app, client, "alice", sign_alg=sign_alg, digest_alg=digest_alg)
    _refused(app, client, log_dir, fields, f"algorithm '{refused}' is not accepted")
    runner = app.test_cli_runner()
    allowed = runner.invoke(cli.main, ["saml", "configure", "--idp-metadata", str(metadata), "--allow-sha1"])
    assert allowed.exit_code == 0, allowed.output
    assert "RSA-SHA1 signatures accepted" in allowed.output
    assert "allow_sha1:     True" in runner.invoke(cli.main, ["saml", "status"]).output
    assert runner.invoke(cli.main, ["conf", "saml.allow_sha1"]).output.strip() == "True"
    # Configuring again without the flag keeps the choice; --refuse-sha1 takes it back.
    assert runner.invoke(cli.main, ["saml", "configure", "--idp-metadata", str(metadata)]).exit_code == 0
    with app.app_context():
        assert saml_config.get_saml_status()["allow_sha1"] is True
    fields = crafted_response(app, client, "alice", sign_alg=sign_alg, digest_alg=digest_alg)
    assert client.post("/saml/acs", data=fields).status_code == 302
    refused_again = runner.invoke(
        cli.main, ["saml", "configure", "--idp-metadata", str(metadata), "--refuse-sha1"]
    )
    assert "RSA-SHA1 signatures refused" in refused_again.output
    fresh = app.test_client()
    fields = crafted_response(app, fresh, "alice", sign_alg=sign_alg, digest_alg=digest_alg)
    _refused(app, fresh, log_dir, fields, f"algorithm '{refused}' is not accepted")


# --- malformed or unusable assertions: a page, never a 500 ------------------------------------


@pytest.mark.parametrize(
    ("username", "reason"),
    [
        (" alice ", "unusable username ' alice '"),
        ("alice\t", "unusable username 'alice\\\\t'"),
        ("u" * 151, "at most 150 characters"),
        ("", "no or an empty NameID"),
        (None, "no or an empty NameID"),
    ],
    ids=["spaces", "trailing_tab", "too_long", "empty", "missing"],
)
def test_an_unusable_nameid_gets_the_refusal_page(
    app: Flask, client: FlaskClient, log_dir: Path, username: str | None, reason: str
) -> None:
    configure_dev_saml(app)
    page = _refused(app, client, log_dir, crafted_response(app, client, username), reason)
    assert "unusable username" in page
    assert _usernames(app) == []


def test_a_huge_or_missing_username_attribute_gets_the_refusal_page(
    app: Flask, client: FlaskClient, log_dir: Path
) -> None:
    configure_dev_saml(app)
    with app.app_context():
        saml_sp.set_username_attribute("uid")
    huge = crafted_response(app, client, "alice", attributes={"uid": ["x" * 100_000]})
    _refused(app, client, log_dir, huge, "at most 150 characters")
    missing = crafted_response(app, client, "alice", attributes={"displayName": ["Alice"]})
    _refused(app, client, log_dir, missing, "no or an empty attribute 'uid'")
    assert _usernames(app) == []


def _idp_failure(response: samlp.Response) -> None:
    response.status = samlp.Status(
        status_code=samlp.StatusCode(
            value=samlp.STATUS_RESPONDER, status_code=samlp.StatusCode(value=samlp.STATUS_AUTHN_FAILED)
        )
    )


def test_an_idp_failure_status_gets_the_refusal_page(app: Flask, client: FlaskClient, log_dir: Path) -> None:
    configure_dev_saml(app)
    _refused(app, client, log_dir, crafted_response(app, client, "alice", edit=_idp_failure), "AuthnFailed")


@pytest.mark.parametrize(
    ("saml_response", "reason"),
    [
        (base64.b64encode(b"\xff\xfe\x00garbage\x80").decode(), "not well-formed XML"),
        ("not base64 at all: \u00e9\u00e8", "not base64"),
        (base64.b64encode("<a>\u00e9</a>".encode("latin-1")).decode(), "not well-formed XML"),
        (base64.b64encode(b"<!DOCTYPE x [<!ENTITY e 'e'>]><x>&e;</x>").decode(), "not well-formed XML"),
        (base64.b64encode(b"<root/>").decode(), "not a samlp:Response"),
        ("", "no SAMLResponse"),
    ],
    ids=["binary", "non_ascii", "latin1", "dtd", "not_a_response", "empty"],
)
def test_garbage_samlresponse_gets_the_refusal_page(
    app: Flask, client: FlaskClient, log_dir: Path, saml_response: str, reason: str
) -> None:
    configure_dev_saml(app)
    _refused(app, client, log_dir, {"SAMLResponse": saml_response}, reason)


# --- look-alike usernames ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "lookalike",
    ["Alice", "ALICE", "\uff41\uff4c\uff49\uff43\uff45", "al\u200bice", "\u2060alice", "ali\u00adce"],
    ids=["capital", "upper", "fullwidth", "zero_width_space", "word_joiner", "soft_hyphen"],
)
def test_a_lookalike_of_an_existing_account_is_not_created(
    app: Flask, client: FlaskClient, log_dir: Path, lookalike: str
) -> None:
    configure_dev_saml(app)
    with app.app_context():
        add_pushed_user("alice")
    response = saml_sign_in(client, lookalike)
    page = response.get_data(as_text=True)
    assert response.status_code == 403, page
    assert "would look like an existing account" in page
    assert client.get("/api/v1/session").status_code == 401
    logged = lines_with(log_dir, "scim-info.log", response.headers["X-Request-Id"])
    assert any(
        "signin.refused" in line and "looks like the existing account 'alice'" in line for line in logged
    )
    assert _usernames(app) == ["alice"]
    # The existing account still signs in with its exact username.
    assert saml_sign_in(client, "alice").status_code == 302


@pytest.mark.parametrize(
    ("existing", "newcomer"),
    [("\uff41\uff44\uff4d\uff49\uff4e", "admin"), ("\u212aelvin", "kelvin"), ("b\u200dob", "BOB")],
    ids=["fullwidth_exists", "kelvin_sign_exists", "zero_width_joiner_exists"],
)
def test_a_plain_name_is_not_created_next_to_an_existing_non_ascii_lookalike(
    app: Flask, client: FlaskClient, existing: str, newcomer: str
) -> None:
    configure_dev_saml(app)
    with app.app_context():
        add_pushed_user(existing)
    assert "would look like an existing account" in saml_sign_in(client, newcomer).get_data(as_text=True)
    assert _usernames(app) == [existing]


def test_an_existing_lookalike_account_still_signs_in_with_its_exact_name(
    app: Flask, client: FlaskClient
) -> None:
    """Two accounts that differ by case (created before this rule, or by SCIM) each keep working."""
    configure_dev_saml(app)
    with app.app_context():
        add_pushed_user("alice")
        add_pushed_user("Alice")
    assert saml_sign_in(client, "Alice").status_code == 302
    assert client.get("/api/v1/session").get_json()["user"]["username"] == "Alice"


def test_a_lookalike_of_a_builtin_admin_is_not_created(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    with app.app_context():
        add_admin("admin")
    assert "would look like an existing account" in saml_sign_in(client, "Admin").get_data(as_text=True)
    assert _usernames(app) == ["admin"]


def test_different_names_are_still_created(app: Flask, client: FlaskClient) -> None:
    configure_dev_saml(app)
    with app.app_context():
        add_pushed_user("alice")
    assert saml_sign_in(client, "alicia").status_code == 302
    assert (
        saml_sign_in(app.test_client(), "al\u00efce").status_code == 302
    )  # another letter, not a look-alike
    assert _usernames(app) == ["alice", "alicia", "al\u00efce"]


def test_scim_may_still_push_case_variants(app: Flask, client: FlaskClient) -> None:
    """The decision for SCIM (docs/scim-behaviour.md): the IdP is the authority on its usernames,
    so POST /Users keeps exact, case-sensitive uniqueness; only SAML sign-up is guarded."""
    headers = configure_dev_saml(app, scim=True)
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "active": True}
    assert client.post("/scim/v2/Users", json={**user, "userName": "bob"}, headers=headers).status_code == 201
    assert client.post("/scim/v2/Users", json={**user, "userName": "Bob"}, headers=headers).status_code == 201
    assert saml_sign_in(client, "Bob").status_code == 302  # the pushed account, by its exact name
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SamlOutstandingRequest)) == 0


@pytest.mark.parametrize(
    "next_url",
    ["/" + "a" * 2000, "/ok\r\nSet-Cookie: x=1"],
    ids=["longer_than_the_column", "crlf"],  # a NUL is 400 at once (tests/test_safety_review.py)
)
def test_an_odd_next_url_falls_back_to_the_home_page(app: Flask, client: FlaskClient, next_url: str) -> None:
    """``next`` is stored with the outstanding request: it must fit the column and be a plain path."""
    configure_dev_saml(app)
    signed = saml_sign_in(client, "alice", next_url=next_url)
    assert signed.status_code == 302
    assert signed.headers["Location"] == "/"
