"""SAML configuration: metadata validated with pysaml2, enable/disable, status."""

from __future__ import annotations

import pytest
from flask import Flask

from scimgate import configuration_utils as cu
from scimgate.conf import saml as saml_config
from scimgate.signin import dev_idp
from tests.support.config import DATA_DIR

METADATA = (DATA_DIR / "idp-metadata.xml").read_text()
IDP_ENTITY_ID = "https://idp.scimgate.test/saml2/idp/metadata"


@pytest.fixture
def ctx(app: Flask):
    with app.app_context():
        yield


def _without(fragment_start: str, fragment_end: str) -> str:
    start = METADATA.index(fragment_start)
    end = METADATA.index(fragment_end, start) + len(fragment_end)
    return METADATA[:start] + METADATA[end:]


def test_valid_metadata_is_stored_and_reported(ctx: None) -> None:
    cu.configure_saml(METADATA, sp_entity_id="https://sp.test/metadata", base_url="https://sp.test/")
    status = saml_config.get_saml_status()
    assert status["configured"] is True
    assert status["enabled"] is False
    assert status["idp_entity_id"] == IDP_ENTITY_ID
    assert status["sp_entity_id"] == "https://sp.test/metadata"
    assert status["base_url"] == "https://sp.test"
    cu.enable_saml()
    assert saml_config.get_saml_status()["enabled"] is True
    cu.disable_saml()
    assert saml_config.get_saml_status()["enabled"] is False


def test_allow_sha1_round_trips_and_is_kept_when_not_given(ctx: None) -> None:
    cu.configure_saml(METADATA)
    assert saml_config.get_saml_status()["allow_sha1"] is False
    cu.configure_saml(METADATA, allow_sha1=True)
    assert saml_config.get_saml_status()["allow_sha1"] is True
    cu.configure_saml(METADATA, base_url="https://sp.test")  # not given: unchanged
    assert saml_config.get_saml_status()["allow_sha1"] is True
    cu.configure_saml(METADATA, allow_sha1=False)
    assert saml_config.get_saml_status()["allow_sha1"] is False


def test_parse_reports_entity_sso_and_certificate() -> None:
    info = saml_config.parse_idp_metadata(METADATA)
    assert info["entity_id"] == IDP_ENTITY_ID
    assert info["sso_urls"] == ["https://idp.scimgate.test/saml2/idp/sso"] * 2
    assert info["signing_certificates"] == 1


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("", "the IdP metadata is empty"),
        ("this is not xml", "not valid SAML 2.0 metadata"),
        ("<root/>", "no identity provider"),
        (_without("<md:SingleSignOnService", "/>"), None),
        (_without("<md:KeyDescriptor", "</md:KeyDescriptor>"), "lacks a signing certificate"),
    ],
)
def test_invalid_metadata_is_refused_with_a_clear_message(
    ctx: None, metadata: str, message: str | None
) -> None:
    if message is None:  # one SSO binding left: still valid
        cu.configure_saml(metadata)
        return
    with pytest.raises(saml_config.SamlConfigurationError, match=message):
        cu.configure_saml(metadata)
    assert saml_config.get_saml_status()["configured"] is False


def test_metadata_without_any_sso_endpoint_is_refused(ctx: None) -> None:
    metadata = METADATA
    while "<md:SingleSignOnService" in metadata:
        start = metadata.index("<md:SingleSignOnService")
        end = metadata.index("/>", start) + 2
        metadata = metadata[:start] + metadata[end:]
    with pytest.raises(saml_config.SamlConfigurationError, match="lacks a SingleSignOnService"):
        cu.configure_saml(metadata)


def test_bad_base_url_is_refused(ctx: None) -> None:
    with pytest.raises(saml_config.SamlConfigurationError, match="absolute http"):
        cu.configure_saml(METADATA, base_url="localhost:5000")


def test_enable_requires_configuration(ctx: None) -> None:
    with pytest.raises(saml_config.SamlConfigurationError, match="scimgate saml configure"):
        cu.enable_saml()


def test_saml_cannot_be_disabled_while_scim_sync_is_on(ctx: None) -> None:
    cu.configure_saml(METADATA)
    cu.enable_saml()
    cu.update_scim_client("okta")
    cu.generate_scim_bearer_token(1)
    cu.enable_scim_user_and_group_sync()
    with pytest.raises(saml_config.SamlConfigurationError, match="scimgate scim disable"):
        cu.disable_saml()
    assert saml_config.get_saml_status()["enabled"] is True


def test_shipped_dev_metadata_is_valid() -> None:
    info = saml_config.parse_idp_metadata((dev_idp.DEV_DIR / "idp-metadata.xml").read_text())
    assert info["entity_id"] == "http://localhost:5000/dev-idp/metadata"
