"""``scimgate plugins`` lists every plugin, its version, its clients and its hooks (issue 4)."""

from __future__ import annotations

import json

from scimgate import __version__


def _parse(output: str) -> dict[str, dict[str, str]]:
    """Text output -> {plugin name: {"version", "clients", "hooks"}}."""
    plugins: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in output.splitlines():
        if not line.startswith(" "):
            name, version = line.split(" ", 1)
            current = plugins[name] = {"version": version}
        else:
            key, value = line.strip().split(":", 1)
            current[key] = value.strip()
    return plugins


def test_plugins_command_lists_plugins_clients_and_hooks(runner):
    result = runner.invoke(args=["plugins"])
    assert result.exit_code == 0, result.output
    plugins = _parse(result.output)
    azure = plugins["scimgate_plugins.azure_ad"]
    assert azure["version"] == __version__
    assert azure["clients"] == "azure_active_directory"
    assert azure["hooks"].split(", ") == [
        "scimgate_auth_schemes",
        "scimgate_normalize_filter",
        "scimgate_normalize_request",
        "scimgate_register_clients",
        "scimgate_setup_guide",
        "scimgate_tune_response",
    ]
    for client in ("okta", "pingfederate", "one_identity", "sailpoint"):
        assert plugins[f"scimgate_plugins.{client}"]["clients"] == client
    assert plugins["scimgate.default_hooks"]["clients"] == "(every client)"


def test_plugins_command_json_matches_the_host(app, runner):
    from scimgate.plugin_host import get_host

    result = runner.invoke(args=["plugins", "--json"])
    assert result.exit_code == 0, result.output
    listed = {p["name"]: p for p in json.loads(result.output)}
    for info in get_host(app).describe():
        assert listed[info.name] == {
            "name": info.name,
            "version": info.version,
            "clients": list(info.clients),
            "hooks": list(info.hooks),
        }
    assert listed["scimgate_plugins.sailpoint"]["clients"] == ["sailpoint"]
