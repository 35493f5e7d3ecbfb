"""The three application settings, stored in the shared configuration table.

They live beside the SCIM keys (``scimgate_conf``) so every process sees a change on its next
request. Whether a setting may be turned on is a policy question (``scimgate.accounts.policies``); this
module only stores and reads, and reports the *effective* value: moderation and "Use Custom Groups
to manage user suspension and activation" are off while SCIM sync is on, as the reference says
enabling sync "will disable sign-up moderation and some other admin features".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from scimgate.conf import store as conf_store
from scimgate.conf.scim import check_if_scim_sync_is_enabled
from scimgate.logs import audit
from scimgate.logs import scim_logs as scim_logging

MODERATION = "app.signup_moderation"
CUSTOM_GROUPS_ACTIVATION = "app.custom_groups_manage_activation"
GROUPS_ASSIGN_ROLES = "app.groups_assign_roles"

# JSON API names -> configuration keys.
API_NAMES: dict[str, str] = {
    "moderation": MODERATION,
    "custom_groups_manage_activation": CUSTOM_GROUPS_ACTIVATION,
    "groups_assign_roles": GROUPS_ASSIGN_ROLES,
}


@dataclass(frozen=True)
class Settings:
    """The effective settings (what the application applies right now)."""

    moderation: bool
    custom_groups_manage_activation: bool
    groups_assign_roles: bool

    def as_dict(self) -> dict[str, Any]:
        """Return the settings under their JSON API names."""
        return asdict(self)


def stored(name: str) -> bool:
    """Return the stored value of a setting by its API name (False when never set)."""
    return conf_store.get_bool(API_NAMES[name], False)


def scim_sync_enabled() -> bool:
    """Whether SCIM sync is on (it masks two of the settings, see ``current``)."""
    return check_if_scim_sync_is_enabled()


def current() -> Settings:
    """Return the effective settings; sync on masks moderation and custom-group activation."""
    sync = check_if_scim_sync_is_enabled()
    return Settings(
        moderation=stored("moderation") and not sync,
        custom_groups_manage_activation=stored("custom_groups_manage_activation") and not sync,
        groups_assign_roles=stored("groups_assign_roles"),
    )


def groups_assign_roles() -> bool:
    """True when a user's role comes from their groups ("Use Groups to Assign Roles")."""
    return current().groups_assign_roles


def write(values: dict[str, bool]) -> None:
    """Store settings by API name in one transaction (callers have consulted the policies)."""
    conf_store.put_many(
        {API_NAMES[name]: bool(value) for name, value in values.items()},
        record=audit.conf_change("settings.changed"),
    )
    for name, value in values.items():
        scim_logging.lifecycle("config.setting_changed", setting=name, value=value)
