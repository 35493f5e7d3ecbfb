"""The core's own hook implementations (``scimgate.default_hooks``), which run after every plugin."""

from __future__ import annotations

from scimgate.plugin_host import PluginHost, get_host


def test_default_auth_schemes_allow_bearer_and_basic(app):
    """``default_hooks.scimgate_auth_schemes``: both schemes unless a client's plugin says otherwise."""
    host = get_host(app)
    for client in ("okta", "pingfederate", "sailpoint", "one_identity", "an_unknown_client"):
        assert host.hooks_for(client).auth_schemes() == ("bearer", "basic")


def test_default_filter_is_kept_as_sent(app):
    """``default_hooks.scimgate_normalize_filter``: a client without a rewrite keeps its filter."""
    host = get_host(app)
    expr = 'emails[type eq "work"].value eq "x"'
    assert host.hooks_for("okta").normalize_filter("User", expr) == expr
    assert host.hooks_for("azure_active_directory").normalize_filter("User", expr) != expr


def test_client_plugins_run_only_for_their_client():
    """Per-request calls reach the active client's plugin and client-independent plugins only."""
    host = PluginHost(load_entry_points=False)
    payload = {"schemas": [], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
    host.hooks_for("okta").normalize_request("User", "patch", payload)
    assert payload["Operations"][0] == {"op": "Replace", "path": "active", "value": "False"}
    host.hooks_for("azure_active_directory").normalize_request("User", "patch", payload)
    assert payload["Operations"][0] == {"op": "replace", "path": "active", "value": False}


def test_auth_schemes_are_asked_once_per_client_and_process():
    """Every SCIM request needs the schemes first, so the answer is remembered per client."""
    from scimgate.hookspecs import hookimpl

    calls: list[str] = []

    class CountingPlugin:
        @hookimpl(tryfirst=True)
        def scimgate_auth_schemes(self, client):
            calls.append(client.name)

    host = PluginHost(load_entry_points=False, extra_plugins=(CountingPlugin(),))
    for _ in range(3):
        assert host.hooks_for("okta").auth_schemes() == ("bearer", "basic")
    assert host.hooks_for("azure_active_directory").auth_schemes() == ("bearer",)
    assert calls == ["okta", "azure_active_directory"]


def test_default_setup_guide_serves_a_client_whose_plugin_has_none():
    """``default_hooks.scimgate_setup_guide``: a client without its own guide gets the generic one,
    naming its label; a client with one gets its own (the first answer wins)."""
    from scimgate.hookspecs import ClientProfile, hookimpl

    class BareClient:
        @hookimpl
        def scimgate_register_clients(self):
            return [ClientProfile("bare_idp", "Bare IdP")]

    host = PluginHost(load_entry_points=False, extra_plugins=(BareClient(),))
    guide = host.hooks_for("bare_idp").setup_guide()
    assert guide.where.startswith("Bare IdP: ")
    assert guide.base_url_label == "SCIM base URL"
    assert guide.auth_modes == {"bearer": "Bearer token", "basic": "Basic authentication"}
    assert guide.doc == "docs/scim-behaviour.md"
    assert host.hooks_for("okta").setup_guide().base_url_label == "SCIM connector base URL"
