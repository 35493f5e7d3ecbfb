"""``scimgate shell``: Flask's shell with the reference's configuration functions pre-imported."""

from __future__ import annotations

from typing import Any

from flask import Flask

from scimgate import configuration_utils, models
from scimgate.conf import saml as saml_config
from scimgate.extensions import db

# The reference's configuration API, by the names its documentation uses.
REFERENCE_FUNCTIONS = (
    "update_scim_client",
    "get_scim_client",
    "set_scim_basic_auth_username",
    "set_scim_basic_auth_password",
    "get_scim_basic_auth_info",
    "get_scim_bearer_token",
    "generate_scim_bearer_token",
    "enable_scim_user_and_group_sync",
    "check_if_scim_sync_is_enabled",
    "disable_sync_from_directory_provider",
)


def shell_context() -> dict[str, Any]:
    """The names ``scimgate shell`` starts with."""
    context: dict[str, Any] = {name: getattr(configuration_utils, name) for name in REFERENCE_FUNCTIONS}
    context.update(
        configure_saml=configuration_utils.configure_saml,
        enable_saml=configuration_utils.enable_saml,
        disable_saml=configuration_utils.disable_saml,
        get_saml_status=saml_config.get_saml_status,
        db=db,
        models=models,
    )
    return context


def init_app(app: Flask) -> None:
    """Pre-import the reference's configuration functions in ``scimgate shell``."""
    app.shell_context_processor(shell_context)
