"""The reference's two policy tables, in one place, with their exceptions.

Every place that lets a person act on users, groups, roles or settings (the JSON API, the web
pages, the CLI) asks ``require(row_key, state, ...)`` here, so a refusal is decided once and
explained in the same words everywhere. The tables are data: a row says, per column, whether the
action is allowed, and what to answer when it is not (the reference's own wording where it gives
one: "the Display Name is supplied using an automatic process", "contact their directory admin to
change the email", "cannot be enabled when the automatic identity management process is in use").

Table 1 ("How Does Group Sync Over SCIM Work?"): columns "SAML, SCIM disabled" / "SAML, SCIM
enabled". Table 2 ("Role Assignment Using Custom Groups"): columns "Use Groups to Assign Roles
disabled" / "enabled", whatever the SCIM state.

The reference's exceptions, encoded below:

- activate/suspend remain allowed with SCIM on for accounts *not pushed from the IdP* (footnote *);
- application-defined groups stay fully manageable, and roles can be assigned to any group;
- nobody creates or deletes a SCIM group by hand (both columns "No"); since the same row only
  lets admins edit groups "Defined in Alation", renaming a SCIM group or changing its members by
  hand is refused too (the IdP owns them);
- sign-up on the login screen is never offered under SAML (both columns "No");
- moderation and "Use Custom Groups to manage user suspension and activation" cannot be turned on
  while SCIM is on (turning them off is always allowed);
- display name and email cannot be changed while SCIM is on, by the user or anyone else.

One safety rule is ours, not the reference's: no change by a person may leave no active Server
Admin (``scimgate.accounts.admins``); for settings it is checked here, in
``require_settings_change``, which the pages and the JSON API both call.
"""

from __future__ import annotations

from dataclasses import dataclass

from scimgate.accounts import admins, settings
from scimgate.conf.scim import check_if_scim_sync_is_enabled

SCIM_COLUMNS = ("SAML, SCIM disabled", "SAML, SCIM enabled")
ROLE_COLUMNS = ("Use Groups to Assign Roles disabled", "Use Groups to Assign Roles enabled")


@dataclass(frozen=True)
class PolicyRow:
    """One row: the action in the reference's words, whether each column allows it, and why not."""

    key: str
    action: str
    allowed: tuple[bool, bool]
    code: str = ""
    detail: str = ""
    footnote: str = ""


@dataclass(frozen=True)
class State:
    """The switches the tables depend on."""

    scim_enabled: bool
    groups_assign_roles: bool


class PolicyRefusal(Exception):
    """An action the policies refuse; answered as 403 ``{"error": code, "detail": detail}``."""

    def __init__(self, code: str, detail: str, row: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.row = row


_MANAGED_BY_IDP = (
    "this user's account is pushed from the IdP and SCIM sync is enabled: the IdP activates and "
    "deactivates it (manual {verb} remains possible only for accounts not pushed from the IdP, "
    "for example accounts created before enabling SCIM sync)"
)
_NOT_PUSHED = (
    "Except for users whose accounts are not pushed from the IdP, for example, accounts created "
    "before enabling SCIM sync"
)

SCIM_TABLE: tuple[PolicyRow, ...] = (
    PolicyRow(
        "signup",
        "Users can sign up for an account on the login screen",
        (False, False),
        "signup_not_offered",
        "users cannot sign up on the login screen while SAML is the authentication method; users log in "
        "from their IdP login screen or from their IdP dashboard",
    ),
    PolicyRow(
        "idp_login", "Users log in from their IdP login screen or from their IdP dashboard", (True, True)
    ),
    PolicyRow(
        "moderate_signups",
        "Admins can choose to moderate account sign-ups",
        (True, False),
        "moderation_unavailable",
        "sign-up moderation cannot be enabled while SCIM sync is enabled: users are provisioned by the "
        "automatic identity management process",
    ),
    PolicyRow(
        "activate_user",
        "Admins can manually activate users",
        (True, False),
        "managed_by_scim",
        _MANAGED_BY_IDP.format(verb="activation"),
        _NOT_PUSHED,
    ),
    PolicyRow(
        "suspend_user",
        "Admins can manually suspend users",
        (True, False),
        "managed_by_scim",
        _MANAGED_BY_IDP.format(verb="suspension"),
        _NOT_PUSHED,
    ),
    PolicyRow(
        "change_display_name",
        "Users can manually change the Display Name under User Profile",
        (True, False),
        "display_name_managed_by_scim",
        "the Display Name is supplied using an automatic process",
    ),
    PolicyRow(
        "change_email",
        "Users can manually change the email under User Profile",
        (True, False),
        "email_managed_by_scim",
        "contact your directory admin to change the email",
    ),
    PolicyRow(
        "manage_app_group",
        "Admins can manually create, edit, and delete a group that is Defined in the application",
        (True, True),
    ),
    PolicyRow(
        "create_delete_scim_group",
        "Admins can manually create or delete a SCIM group",
        (False, False),
        "scim_group_managed_by_idp",
        "SCIM groups cannot be created or deleted manually: the IdP creates and deletes them "
        "(only groups defined in the application can be created, edited and deleted here)",
    ),
    PolicyRow("assign_group_role", "Admins can manually assign roles to groups", (True, True)),
    PolicyRow(
        "enable_custom_groups_activation",
        "Admin can enable the feature Use Custom Groups to manage user suspension and activation",
        (True, False),
        "custom_groups_activation_unavailable",
        "this feature cannot be enabled when the automatic identity management process is in use",
    ),
)

ROLE_TABLE: tuple[PolicyRow, ...] = (
    PolicyRow("assign_group_role", "Admins can manually assign roles to groups", (True, True)),
    PolicyRow(
        "assign_user_role",
        "Admins can manually assign roles to users",
        (True, False),
        "roles_assigned_by_groups",
        "roles cannot be assigned to users manually while Use Groups to Assign Roles is enabled: a user's "
        "role comes from the roles of their groups (the highest one wins)",
    ),
)

# Refusals that follow from a row without being a row of their own (see the module docstring).
EDIT_SCIM_GROUP = PolicyRow(
    "edit_scim_group",
    "Admins can manually edit a SCIM group (name, members)",
    (False, False),
    "scim_group_managed_by_idp",
    "a SCIM group's name and members are managed by the IdP; only groups defined in the application "
    "can be edited here",
)
# Turning a setting on is the action of this row (turning it off is always allowed by the tables).
ENABLE_ROWS = {
    "moderation": "moderate_signups",
    "custom_groups_manage_activation": "enable_custom_groups_activation",
}


_SCIM_ROWS = {row.key: row for row in SCIM_TABLE}
_ROLE_ROWS = {row.key: row for row in ROLE_TABLE}
ROW_KEYS: tuple[str, ...] = tuple(dict.fromkeys([*_SCIM_ROWS, *_ROLE_ROWS, EDIT_SCIM_GROUP.key]))


def current_state() -> State:
    """Read the switches from the shared configuration (per request, never cached)."""
    return State(
        scim_enabled=check_if_scim_sync_is_enabled(),
        groups_assign_roles=settings.stored("groups_assign_roles"),
    )


def is_allowed(key: str, state: State, *, target_pushed: bool | None = None) -> bool:
    """Tell whether the action ``key`` is allowed in ``state``.

    ``target_pushed`` is whether the user acted upon was pushed from the IdP (activate/suspend).
    An action listed in both tables must be allowed by both.
    """
    allowed = True
    if key in _SCIM_ROWS:
        row = _SCIM_ROWS[key]
        allowed = row.allowed[int(state.scim_enabled)]
        if not allowed and row.footnote and target_pushed is False:
            allowed = True
    elif key != EDIT_SCIM_GROUP.key and key not in _ROLE_ROWS:
        raise KeyError(f"unknown policy row {key!r}")
    if key in _ROLE_ROWS:
        allowed = allowed and _ROLE_ROWS[key].allowed[int(state.groups_assign_roles)]
    if key == EDIT_SCIM_GROUP.key:
        allowed = False
    return allowed


def _row(key: str, state: State) -> PolicyRow:
    if key == EDIT_SCIM_GROUP.key:
        return EDIT_SCIM_GROUP
    scim_row = _SCIM_ROWS.get(key)
    if scim_row is not None and not scim_row.allowed[int(state.scim_enabled)]:
        return scim_row
    return _ROLE_ROWS.get(key) or scim_row  # type: ignore[return-value]


def require(key: str, state: State | None = None, *, target_pushed: bool | None = None) -> None:
    """Raise PolicyRefusal unless the action ``key`` is allowed now."""
    state = state or current_state()
    if not is_allowed(key, state, target_pushed=target_pushed):
        row = _row(key, state)
        raise PolicyRefusal(row.code, row.detail, row.key)


def require_settings_change(changes: dict[str, bool], state: State | None = None) -> None:
    """Refuse a change of settings (API names -> new values) that the tables or the lock-out rule
    forbid: turning on a setting whose row says No, or any change after which no active account
    would be Server Admin (for example "Use Groups to Assign Roles" on while no admin holds the
    role through a group, or "Use Custom Groups to manage user suspension and activation" on while
    the only admin is in no application-defined group)."""
    state = state or current_state()
    for name, row in ENABLE_ROWS.items():
        if changes.get(name) is True:
            require(row, state)
    if changes:
        described = ", ".join(f"{name} {'on' if value else 'off'}" for name, value in changes.items())
        admins.require_an_admin_remains(f"turning {described}", admins.settings_after(changes))
