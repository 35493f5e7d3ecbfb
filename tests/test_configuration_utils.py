"""The reference's configuration functions: validation, hashing, preflight and provider change."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask

from scimgate import configuration_utils as cu
from scimgate.conf import keys as K
from scimgate.conf import store as conf_store
from scimgate.extensions import db
from scimgate.hookspecs import ClientProfile, hookimpl
from scimgate.models import ConfEntry
from scimgate.plugin_host import BUILTIN_CLIENTS, get_host, known_clients, register_client
from scimgate.scim import urns
from tests.support.config import DATA_DIR, PASSWORD, USERNAME, add_group, add_pushed_user, sibling_app
from tests.support.scim import configure_scim


@pytest.fixture
def ctx(app: Flask):
    with app.app_context():
        yield


def _configure_saml() -> None:
    cu.configure_saml((DATA_DIR / "idp-metadata.xml").read_text(), base_url="http://localhost")
    cu.enable_saml()


# --- client ---------------------------------------------------------------------------------------


def test_client_defaults_to_okta_and_accepts_every_reference_client(ctx: None) -> None:
    assert cu.get_scim_client() == "okta"
    assert not cu.is_scim_client_chosen()
    for name in ("okta", "pingfederate", "one_identity", "azure_active_directory", "sailpoint"):
        cu.update_scim_client(name)
        assert cu.get_scim_client() == name


def test_unknown_client_is_refused_with_the_valid_names(ctx: None) -> None:
    with pytest.raises(cu.ScimConfigurationError) as err:
        cu.update_scim_client("Okta")
    message = str(err.value)
    assert "unknown SCIM client 'Okta'" in message
    for name in BUILTIN_CLIENTS:
        assert name in message
    assert isinstance(err.value, ValueError)
    assert not cu.is_scim_client_chosen()


def test_plugins_can_register_more_clients(app: Flask) -> None:
    with app.app_context():
        register_client(app, "acme_idp")
        try:
            assert known_clients()[-1] == "acme_idp"
            cu.update_scim_client("acme_idp")
            assert cu.get_scim_client() == "acme_idp"
        finally:
            get_host(app).profiles.pop("acme_idp")
    with pytest.raises(ValueError, match="lower-case"):
        register_client(app, "Bad Name")


def test_client_switch_is_refused_while_pushed_records_exist(ctx: None) -> None:
    cu.update_scim_client("okta")
    user = add_pushed_user("alice", client="okta")
    add_group("engineers", [user], client="okta")
    with pytest.raises(cu.ScimConfigurationError) as err:
        cu.update_scim_client("azure_active_directory")
    assert "1 user(s) and 1 group(s)" in str(err.value)
    assert "scimgate scim cleanup" in str(err.value)
    assert cu.get_scim_client() == "okta"
    cu.update_scim_client("okta")  # re-setting the same client is harmless


# --- basic auth -----------------------------------------------------------------------------------


def test_basic_auth_stores_only_an_argon2_hash(ctx: None) -> None:
    cu.set_scim_basic_auth_username(USERNAME)
    cu.set_scim_basic_auth_password(PASSWORD)
    info = cu.get_scim_basic_auth_info()
    assert info["username"] == USERNAME
    assert info["password_set"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info["password_set_at"])
    assert PASSWORD not in repr(info)
    stored = conf_store.get_str(K.BASIC_PASSWORD_HASH)
    assert stored.startswith("$argon2id$")
    rows = db.session.scalars(db.select(ConfEntry.value)).all()
    assert not any(PASSWORD in value for value in rows)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short_1&", "it has 8 characters, it must have more than 16"),
        ("exactly16chars1&", "it has 16 characters"),
        ("NoSpecialCharacters12345", "it has no special character"),
        ("abcdefghijklmnopq r", "it has no special character"),  # a space is not special
        ("!@#$%^&*()_+-=[]{}", "it has no letter or digit"),
        ("éèêëàâäôöûüçîïÿæœ", "it has no special character"),
        ("tab\tinside_password_123", "control characters"),
    ],
)
def test_password_policy_says_what_is_wrong_and_what_is_allowed(
    ctx: None, password: str, problem: str
) -> None:
    with pytest.raises(cu.ScimConfigurationError) as err:
        cu.set_scim_basic_auth_password(password)
    message = str(err.value)
    assert problem in message
    assert "longer than 16 characters" in message
    assert password not in message
    assert cu.get_scim_basic_auth_info()["password_set"] is False


@pytest.mark.parametrize(
    "password",
    [
        "abcdefghijklmnopq!",  # letters and one special: the reference asks nothing more
        "12345678901234567!",  # digits and one special
        "abcdefghijklmnop!",  # 17 characters: "longer than 16"
        "été-à-la-plage-ça-va",  # unicode letters are alphanumeric
        "парольпарольпароль€",  # a unicode special
    ],
)
def test_password_rule_is_the_references_wording(ctx: None, password: str) -> None:
    """The reference: longer than 16, alphanumeric characters and at least one special character."""
    cu.set_scim_basic_auth_password(password)
    assert cu.get_scim_basic_auth_info()["password_set"]


def test_reference_example_password_is_accepted(ctx: None) -> None:
    cu.set_scim_basic_auth_password("scim_account_password_12345&&")
    assert cu.get_scim_basic_auth_info()["password_set"]


@pytest.mark.parametrize("username", ["", "   ", "with:colon", "new\nline", " padded", "x" * 151])
def test_bad_usernames_are_refused(ctx: None, username: str) -> None:
    with pytest.raises(cu.ScimConfigurationError):
        cu.set_scim_basic_auth_username(username)
    assert cu.get_scim_basic_auth_info()["username"] is None


# --- token ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("months", [0, 7, -1, "3", 2.0, True, None])
def test_token_validity_must_be_1_to_6_months(ctx: None, months: object) -> None:
    with pytest.raises(cu.ScimConfigurationError, match="1 to 6"):
        cu.generate_scim_bearer_token(months)  # type: ignore[arg-type]
    assert cu.get_scim_bearer_token()["configured"] is False


@pytest.mark.parametrize("months", [1, 6])
def test_token_is_random_returned_once_and_stored_as_keyed_hash(ctx: None, months: int) -> None:
    token = cu.generate_scim_bearer_token(months)
    assert token.startswith("scimgate_")
    assert len(token) - len("scimgate_") >= 43  # 32 random bytes, base64url
    info = cu.get_scim_bearer_token()
    assert info["configured"] and not info["expired"]
    assert re.fullmatch(r"[0-9a-f]{12}", info["fingerprint"])
    assert token not in repr(info)
    created = dt.datetime.fromisoformat(info["created"].rstrip("Z"))
    expires = dt.datetime.fromisoformat(info["expires"].rstrip("Z"))
    assert 28 * months <= (expires - created).days <= 31 * months
    rows = db.session.scalars(db.select(ConfEntry.value)).all()
    assert not any(token in value for value in rows)
    assert cu.generate_scim_bearer_token(months) != token


def test_no_token_reports_not_configured(ctx: None) -> None:
    assert cu.get_scim_bearer_token() == {
        "configured": False,
        "fingerprint": None,
        "created": None,
        "expires": None,
        "expired": False,
        "state": "",
        "expiring": False,
    }


# --- sync lifecycle -------------------------------------------------------------------------------


def test_enable_refuses_listing_everything_missing(ctx: None) -> None:
    with pytest.raises(cu.ScimConfigurationError) as err:
        cu.enable_scim_user_and_group_sync()
    message = str(err.value)
    assert message.startswith("cannot enable SCIM sync: ")
    assert "SAML is not configured" in message
    assert "SAML is not enabled" in message
    assert "client" not in message  # okta is the default client (the reference)
    assert "no SCIM credential is set" in message
    assert cu.check_if_scim_sync_is_enabled() is False


def test_enable_refuses_when_only_saml_is_missing(ctx: None) -> None:
    cu.update_scim_client("okta")
    cu.generate_scim_bearer_token(1)
    with pytest.raises(cu.ScimConfigurationError) as err:
        cu.enable_scim_user_and_group_sync()
    assert "SAML is not configured" in str(err.value)
    assert "credential" not in str(err.value)
    assert "client" not in str(err.value)


def test_username_without_password_is_not_a_credential(ctx: None) -> None:
    _configure_saml()
    cu.update_scim_client("okta")
    cu.set_scim_basic_auth_username(USERNAME)
    with pytest.raises(cu.ScimConfigurationError, match="username is set but no password"):
        cu.enable_scim_user_and_group_sync()


def test_enable_with_basic_auth_only_then_disable(ctx: None) -> None:
    _configure_saml()
    cu.update_scim_client("pingfederate")
    cu.set_scim_basic_auth_username(USERNAME)
    cu.set_scim_basic_auth_password(PASSWORD)
    cu.enable_scim_user_and_group_sync()
    assert cu.check_if_scim_sync_is_enabled() is True
    cu.disable_sync_from_directory_provider()
    assert cu.check_if_scim_sync_is_enabled() is False


def test_configure_scim_fixture_contract(app: Flask) -> None:
    headers = configure_scim(app, "sailpoint")
    assert headers["Authorization"].startswith("Bearer scimgate_")
    with app.app_context():
        assert cu.get_scim_client() == "sailpoint"
        assert cu.check_if_scim_sync_is_enabled()


def test_refusals_are_logged_to_scim_info(ctx: None, log_dir) -> None:
    with pytest.raises(cu.ScimConfigurationError):
        cu.update_scim_client("nonexistent_idp")
    info = (log_dir / "scim-info.log").read_text()
    assert "config.error function=update_scim_client" in info
    assert "nonexistent_idp" in info


# --- default client and the client's accepted schemes --------------------------------------------


def test_enable_without_choosing_a_client_uses_okta(ctx: None, client) -> None:
    """The reference's default client is okta: enabling needs no ``update_scim_client``."""
    _configure_saml()
    token = cu.generate_scim_bearer_token(1)
    cu.enable_scim_user_and_group_sync()
    assert cu.check_if_scim_sync_is_enabled()
    assert cu.get_scim_client() == "okta"
    assert cu.auth_status().ok
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    created = client.post(
        "/scim/v2/Users", json={"schemas": [urns.USER], "userName": "dflt"}, headers=headers
    )
    assert created.status_code == 201, created.get_json()
    # Changing provider keeps its cleanup rule: okta's (default) records block the switch.
    with pytest.raises(cu.ScimConfigurationError, match="scimgate scim cleanup"):
        cu.update_scim_client("pingfederate")
    assert cu.get_scim_client() == "okta"


def test_entra_with_basic_only_is_refused_naming_the_token(ctx: None) -> None:
    """Entra ID accepts only a bearer token (its plugin's ``scimgate_auth_schemes``)."""
    _configure_saml()
    cu.update_scim_client("azure_active_directory")
    cu.set_scim_basic_auth_username(USERNAME)
    cu.set_scim_basic_auth_password(PASSWORD)
    status = cu.auth_status()
    assert status.accepted == ("bearer",) and not status.ok
    with pytest.raises(cu.ScimConfigurationError) as err:
        cu.enable_scim_user_and_group_sync()
    message = str(err.value)
    assert "azure_active_directory accepts only a bearer token" in message
    assert "scimgate scim generate-token --months N" in message
    assert PASSWORD not in message
    assert cu.check_if_scim_sync_is_enabled() is False
    cu.generate_scim_bearer_token(1)
    assert cu.auth_status().ok and cu.auth_status().usable == ("bearer",)
    cu.enable_scim_user_and_group_sync()
    assert cu.check_if_scim_sync_is_enabled()


def test_entra_with_basic_and_an_expired_token_is_refused(ctx: None) -> None:
    _configure_saml()
    cu.update_scim_client("azure_active_directory")
    cu.set_scim_basic_auth_username(USERNAME)
    cu.set_scim_basic_auth_password(PASSWORD)
    cu.generate_scim_bearer_token(1)
    conf_store.put(K.TOKEN_EXPIRES, conf_store.encode_datetime(dt.datetime(2000, 1, 1)))
    problem = cu.auth_status().problem()
    assert problem is not None and "has expired" in problem and "bearer token" in problem
    with pytest.raises(cu.ScimConfigurationError, match="accepts only a bearer token"):
        cu.enable_scim_user_and_group_sync()


class _BasicOnlyPlugin:
    """A third-party client whose plugin accepts Basic only."""

    @hookimpl
    def scimgate_register_clients(self) -> list[ClientProfile]:
        return [ClientProfile("basic_idp", "Basic IdP")]

    @hookimpl
    def scimgate_auth_schemes(self, client: ClientProfile) -> list[str]:
        return ["basic"]


def test_a_plugin_accepting_basic_only_makes_a_token_alone_unusable(app: Flask, log_dir) -> None:
    """The preflight asks the client's plugin, so a third-party plugin's rule applies too."""
    other = sibling_app(app, log_dir, PLUGINS_EXTRA=(_BasicOnlyPlugin(),))
    with other.app_context():
        _configure_saml()
        cu.update_scim_client("basic_idp")
        cu.generate_scim_bearer_token(1)
        with pytest.raises(cu.ScimConfigurationError, match="basic_idp accepts only basic authentication"):
            cu.enable_scim_user_and_group_sync()
        cu.set_scim_basic_auth_username(USERNAME)
        cu.set_scim_basic_auth_password(PASSWORD)
        assert cu.auth_status().usable == ("basic",)
        cu.enable_scim_user_and_group_sync()


class _NtlmOnlyPlugin:
    """A client whose plugin names only a scheme scimgate does not offer."""

    @hookimpl
    def scimgate_register_clients(self) -> list[ClientProfile]:
        return [ClientProfile("ntlm_idp", "NTLM IdP")]

    @hookimpl
    def scimgate_auth_schemes(self, client: ClientProfile) -> list[str]:
        return ["NTLM"]


def test_a_client_accepting_no_offered_scheme_cannot_be_enabled(app: Flask, log_dir) -> None:
    other = sibling_app(app, log_dir, PLUGINS_EXTRA=(_NtlmOnlyPlugin(),))
    with other.app_context():
        _configure_saml()
        cu.update_scim_client("ntlm_idp")
        cu.generate_scim_bearer_token(1)
        cu.set_scim_basic_auth_username(USERNAME)
        cu.set_scim_basic_auth_password(PASSWORD)
        assert not cu.auth_status().ok
        with pytest.raises(cu.ScimConfigurationError, match="ntlm_idp accepts no authentication scheme"):
            cu.enable_scim_user_and_group_sync()
