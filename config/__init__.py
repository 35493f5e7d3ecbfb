"""Configuration classes for scimgate, selected by name and overridden by ``SCIMGATE_*`` variables.

Shipped as the package ``scimgate_config`` (see setup.cfg) so that no top-level ``config`` package
is installed into site-packages.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from scimgate_config.default import DefaultConfig
from scimgate_config.development import DevelopmentConfig
from scimgate_config.production import ProductionConfig
from scimgate_config.testing import TestingConfig

CONFIGS: dict[str, type[DefaultConfig]] = {
    "default": DefaultConfig,
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}

ENV_PREFIX = "SCIMGATE_"

# Environment names that do not follow the ``SCIMGATE_<KEY>`` pattern of the Flask key they set.
ENV_ALIASES = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}


class ConfigError(ValueError):
    """A configuration name or an environment override is invalid."""


def _coerce(raw: str, current: Any, name: str) -> Any:
    """Convert an environment string to the type of the class default, so overrides stay typed."""
    if isinstance(current, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{ENV_PREFIX}{name} must be a boolean (true/false), got {raw!r}")
    if isinstance(current, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name} must be an integer, got {raw!r}") from None
    return raw


def load_config(name: str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the settings of configuration class ``name`` with ``SCIMGATE_*`` overrides applied.

    ``name`` defaults to ``$SCIMGATE_CONFIG`` and then to ``default``.
    """
    environ = os.environ if environ is None else environ
    name = name or environ.get(f"{ENV_PREFIX}CONFIG") or "default"
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise ConfigError(
            f"unknown configuration {name!r}; choose one of {', '.join(sorted(CONFIGS))}"
        ) from None
    settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
    settings["CONFIG_NAME"] = name
    for env_key, raw in environ.items():
        if not env_key.startswith(ENV_PREFIX) or env_key == f"{ENV_PREFIX}CONFIG":
            continue
        short = env_key[len(ENV_PREFIX) :]
        key = ENV_ALIASES.get(short, short)
        if key in settings:
            settings[key] = _coerce(raw, settings[key], short)
    return settings
