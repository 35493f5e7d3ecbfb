"""One pluggy PluginManager per app: built-in plugins, entry points, per-client hook callers, and
the one registry of SCIM clients (identity providers).

Plugins are found in two ways: the built-in modules listed in ``BUILTIN_PLUGINS`` (shipped as
``scimgate_plugins``) and the setuptools entry-point group ``scimgate`` (third-party packages).
A client exists because a plugin's ``scimgate_register_clients`` names it: the host's ``profiles``
is the registry, and everything that validates a client name asks ``known_clients()``.
Each request calls hooks through ``hooks_for(client)``: the active client's plugins and the
client-independent ones only, via pluggy's ``subset_hook_caller``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pluggy
from flask import Flask, current_app, has_app_context

from scimgate import default_hooks, hookspecs
from scimgate.hookspecs import ClientProfile, ScimResponse, SetupGuide

ENTRY_POINT_GROUP = "scimgate"
# In the order their clients are listed (set-up page, error messages).
BUILTIN_PLUGINS = (
    "scimgate_plugins.okta",
    "scimgate_plugins.pingfederate",
    "scimgate_plugins.one_identity",
    "scimgate_plugins.azure_ad",
    "scimgate_plugins.sailpoint",
)
EXTENSION_KEY = "scimgate_plugins"
CLIENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class PluginError(RuntimeError):
    """A plugin is malformed (unknown hook, duplicate client name): start-up fails loudly."""


def _builtin_clients() -> tuple[str, ...]:
    """The clients the built-in plugins serve, read from their own ``scimgate_register_clients``."""
    return tuple(
        profile.name
        for module_name in BUILTIN_PLUGINS
        for profile in importlib.import_module(module_name).scimgate_register_clients()
    )


BUILTIN_CLIENTS: tuple[str, ...] = _builtin_clients()


@dataclass(frozen=True)
class PluginInfo:
    """What ``scimgate plugins`` shows about one plugin."""

    name: str
    version: str
    clients: tuple[str, ...]
    hooks: tuple[str, ...]


class ClientHooks:
    """The hooks of one client, bound to its profile; each call runs only that client's plugins."""

    def __init__(self, host: PluginHost, profile: ClientProfile) -> None:
        self.profile = profile
        self._auth_schemes: tuple[str, ...] | None = None
        self._callers = {
            name: host.manager.subset_hook_caller(
                name, remove_plugins=host.other_clients_plugins(profile.name)
            )
            for name in host.hook_names
        }

    def auth_schemes(self) -> tuple[str, ...]:
        """The Authorization schemes (lower-case) this client may use.

        Asked once per client and process (the hook sees only the client's profile), because
        every SCIM request needs the answer before anything else.
        """
        if self._auth_schemes is None:
            schemes = self._callers["scimgate_auth_schemes"](client=self.profile)
            self._auth_schemes = tuple(s.lower() for s in schemes or [])
        return self._auth_schemes

    def normalize_request(self, resource_type: str, action: str, payload: Any) -> None:
        """Let the client's plugins rewrite a parsed body in place."""
        self._callers["scimgate_normalize_request"](
            client=self.profile, resource_type=resource_type, action=action, payload=payload
        )

    def normalize_filter(self, resource_type: str, filter_expr: str) -> str:
        """Let the client's plugins rewrite a filter string."""
        result = self._callers["scimgate_normalize_filter"](
            client=self.profile, resource_type=resource_type, filter_expr=filter_expr
        )
        return filter_expr if result is None else result

    def tune_response(self, resource_type: str, action: str, response: ScimResponse) -> None:
        """Let the client's plugins adjust a successful response."""
        self._callers["scimgate_tune_response"](
            client=self.profile, resource_type=resource_type, action=action, response=response
        )

    def setup_guide(self) -> SetupGuide:
        """What to enter in the client's IdP console (the core default answers when no plugin does)."""
        return self._callers["scimgate_setup_guide"](client=self.profile)


class PluginHost:
    """The app's plugin manager and the client registry it builds."""

    def __init__(self, load_entry_points: bool = True, extra_plugins: tuple[Any, ...] = ()) -> None:
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self.manager.register(default_hooks, name="scimgate.default_hooks")
        for module_name in BUILTIN_PLUGINS:
            self.manager.register(importlib.import_module(module_name), name=module_name)
        for plugin in extra_plugins:
            self.manager.register(plugin)
        if load_entry_points:
            self.manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as err:
            raise PluginError(f"a scimgate plugin implements an unknown hook: {err}") from err
        self.hook_names = tuple(n for n in dir(hookspecs) if n.startswith("scimgate_"))
        self.profiles: dict[str, ClientProfile] = {}
        self.served_by: dict[str, Any] = {}
        self._collect_clients()
        self._client_hooks: dict[str, ClientHooks] = {}

    def _collect_clients(self) -> None:
        """Ask each plugin which clients it serves, remembering which plugin serves which."""
        for impl in self.manager.hook.scimgate_register_clients.get_hookimpls():
            for profile in impl.function() or []:
                if profile.name in self.served_by:
                    other = self.manager.get_name(self.served_by[profile.name])
                    raise PluginError(
                        f"client {profile.name!r} is registered by both {other!r} and {impl.plugin_name!r}"
                    )
                self.add_client(profile)
                self.served_by[profile.name] = impl.plugin

    def add_client(self, profile: ClientProfile) -> None:
        """Accept one more client name; a client no plugin serves runs the core's hooks only."""
        if not CLIENT_NAME.match(profile.name):
            raise ValueError(
                f"client name {profile.name!r} must be lower-case letters, digits and '_' (max 64)"
            )
        self.profiles.setdefault(profile.name, profile)

    def other_clients_plugins(self, client: str) -> list[Any]:
        """Plugins that serve clients, but not ``client``: excluded from its hook calls."""
        mine = self.served_by.get(client)
        return [p for p in set(self.served_by.values()) if p is not mine]

    def profile(self, client: str) -> ClientProfile:
        """The profile of ``client``; a name no plugin serves gets a bare profile (core only)."""
        return self.profiles.get(client) or ClientProfile(name=client, label=client)

    def hooks_for(self, client: str) -> ClientHooks:
        """Cached hook callers for ``client``."""
        hooks = self._client_hooks.get(client)
        if hooks is None:
            hooks = self._client_hooks[client] = ClientHooks(self, self.profile(client))
        return hooks

    def describe(self) -> list[PluginInfo]:
        """Every registered plugin with its version, clients and implemented hooks."""
        infos = []
        distributions = {id(plugin): dist for plugin, dist in self.manager.list_plugin_distinfo()}
        for name, plugin in sorted(self.manager.list_name_plugin(), key=lambda item: str(item[0])):
            if plugin is None:
                continue
            dist = distributions.get(id(plugin))
            version = dist.version if dist is not None else _module_version(plugin)
            served = tuple(sorted(c for c, p in self.served_by.items() if p is plugin))
            hooks = tuple(sorted(h.name for h in self.manager.get_hookcallers(plugin) or []))
            infos.append(PluginInfo(str(name), version, served, hooks))
        return infos


def _module_version(plugin: Any) -> str:
    """A plugin module's own ``__version__``, else scimgate's (the built-in plugins ship with it)."""
    shipped = importlib.metadata.version("scimgate")
    if isinstance(plugin, ModuleType):
        return str(getattr(plugin, "__version__", shipped))
    return shipped


def init_app(app: Flask) -> None:
    """Create the app's plugin host: its plugins and the clients they serve."""
    app.extensions[EXTENSION_KEY] = PluginHost(
        load_entry_points=app.config.get("PLUGINS_LOAD_ENTRY_POINTS", True),
        extra_plugins=tuple(app.config.get("PLUGINS_EXTRA", ())),
    )


def get_host(app: Flask | None = None) -> PluginHost:
    """The plugin host of ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION_KEY]


def register_client(app: Flask, name: str) -> None:
    """Let ``app`` accept one more client name, served by the core alone (no plugin of its own)."""
    get_host(app).add_client(ClientProfile(name=name, label=name))


def known_clients() -> tuple[str, ...]:
    """Every client the current app accepts (the built-in ones first); the built-in ones without an app."""
    return tuple(get_host().profiles) if has_app_context() else BUILTIN_CLIENTS
