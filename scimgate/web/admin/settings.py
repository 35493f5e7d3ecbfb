"""Settings: sign-up moderation, "Use Custom Groups to manage user suspension and activation" and
"Use Groups to Assign Roles". A switch that the policies will not let an admin turn on now is shown
disabled with the policy's reason; turning a switch off is always possible. The checks are the
JSON API's own (``ENABLE_ROWS``, ``policies.require_settings_change``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from scimgate.accounts import policies, settings
from scimgate.admin_api.settings import ENABLE_ROWS

LABELS = {
    "moderation": (
        "Moderate account sign-ups",
        "A new SAML account waits for an admin's approval (Users page: Activate) before it can sign in.",
    ),
    "custom_groups_manage_activation": (
        "Use Custom Groups to manage user suspension and activation",
        "An account that is not built-in is active only while it belongs to at least one group "
        "defined in the application.",
    ),
    "groups_assign_roles": (
        "Use Groups to Assign Roles",
        "A user's role is the highest role among their groups (Viewer when none has one); roles can "
        "then no longer be assigned to users one by one.",
    ),
}


@dataclass(frozen=True)
class Switch:
    """One setting as the page shows it."""

    name: str
    label: str
    help: str
    stored: bool
    effective: bool
    reason: str | None  # why it cannot be turned on now (None: it can)

    @property
    def disabled(self) -> bool:
        """Disabled only when it is off and may not be turned on (switching off stays possible)."""
        return self.reason is not None and not self.stored


def register(bp: Blueprint) -> None:
    """Add the settings page."""
    bp.add_url_rule("/settings", "settings", show, methods=["GET"])
    bp.add_url_rule("/settings", "settings_save", save, methods=["POST"])


def switches() -> list[Switch]:
    """The three settings with their stored and effective values and the policies' answers."""
    state = policies.current_state()
    effective = settings.current().as_dict()
    out = []
    for name in settings.API_NAMES:
        row = ENABLE_ROWS.get(name)
        reason = None
        if row is not None:
            try:
                policies.require(row, state)
            except policies.PolicyRefusal as refusal:
                reason = refusal.detail[:1].upper() + refusal.detail[1:]
        label, help_text = LABELS[name]
        out.append(Switch(name, label, help_text, settings.stored(name), effective[name], reason))
    return out


def show() -> tuple[str, int]:
    """The settings page."""
    state = policies.current_state()
    return render_template("admin/settings.html", switches=switches(), scim_enabled=state.scim_enabled), 200


def save() -> Response:
    """Store the switches that changed, refusing what the policies refuse (as PUT /api/v1/settings)."""
    changes = {}
    for switch in switches():
        # A disabled checkbox is not sent, and is off: only a forged form turns it on, and the
        # policy check below refuses that.
        wanted = request.form.get(switch.name) == "on"
        if wanted != switch.stored:
            changes[switch.name] = wanted
    policies.require_settings_change(changes)
    if changes:
        settings.write(changes)
        flash("Settings saved.", "success")
    else:
        flash("Nothing changed.", "info")
    return redirect(url_for("admin_pages.settings"), 303)
