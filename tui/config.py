"""The user's config file: the defaults an operator sets once (who they are, where runbooks live,
which ssh files, which theme).

It is ``rbconsole/config.toml`` in the user config dir (platformdirs), or the file
``RBCONSOLE_CONFIG`` names. Each setting is decided in this order, the first that says something
winning: a command-line flag, the environment variable, the config file, the built-in default.
``runbooks`` is a search path: ``$RBCONSOLE_PATH`` replaces the file's list, ``--runbooks`` adds
to whichever is used, and the bundled runbooks are always searched first (see :mod:`tui.paths`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from tui import paths

CONFIG_ENV = paths.CONFIG_ENV
ENVIRONMENT = paths.SETTINGS_ENVIRONMENT


class ConfigError(Exception):
    """A config file or variable that cannot be used; the message is one line naming where."""


class ConfigFile(BaseModel):
    """What the config file may set (every key optional); :class:`Settings` adds where else each comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    operator: str | None = None
    """who the record names (default: the login name)"""
    runbooks: tuple[str, ...] = ()
    """runbook folders searched after the bundled ones"""
    ssh_config: str | None = None
    """an ssh_config file; like --ssh-config it replaces a runbook's [ssh] config"""
    known_hosts: str | None = None
    """a known_hosts file; like --known-hosts it replaces a runbook's [ssh] known_hosts"""
    theme: str | None = None
    """the console's Textual theme, e.g. "textual-light" (default: textual-dark)"""

    @field_validator("operator", "ssh_config", "known_hosts", "theme")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("is empty (leave the key out for the default)")
        return value

    @field_validator("theme")
    @classmethod
    def _known_theme(cls, value: str | None) -> str | None:
        if value is not None:
            from textual.theme import BUILTIN_THEMES

            if value not in BUILTIN_THEMES:
                raise ValueError(f"{value!r} is not a theme (known: {', '.join(sorted(BUILTIN_THEMES))})")
        return value


class Settings(BaseSettings, ConfigFile):
    """The settings in force: flags > the environment > the config file > the defaults."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags (passed to the constructor) > the environment > the config file > the defaults.
        return (
            init_settings,
            _Environment(settings_cls),
            TomlConfigSettingsSource(settings_cls, toml_file=paths.config_file()),
        )


class _Environment(PydanticBaseSettingsSource):
    """The variables of :data:`ENVIRONMENT`, by their exact names (no prefix guessing, no JSON)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raw = os.environ.get(ENVIRONMENT[field_name])
        if raw is None or (field_name == "runbooks" and not raw):
            return None, field_name, False
        if field_name == "runbooks":
            return tuple(e for e in raw.split(os.pathsep) if e), field_name, False
        return raw, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(field, name)
            if value is not None:
                found[name] = value
        return found


def read_file(path: Path) -> dict[str, Any]:
    """The config file's table, checked; raises ConfigError naming ``path:line``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if os.environ.get(CONFIG_ENV):
            raise ConfigError(f"{path}: no such config file ({CONFIG_ENV} names it)") from None
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: TOML syntax error: {exc.msg}") from None
    try:
        ConfigFile.model_validate(data)  # the file alone (no environment), so an error is at its line
    except ValidationError as exc:
        from tui.runbook.positions import scan

        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"])
        line, col = scan(text).locate(tuple(error["loc"]))
        raise ConfigError(f"{path}:{line}:{col}: {key}: {_reason(error)}") from None
    return data


def _reason(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return f"unknown setting (known: {', '.join(ConfigFile.model_fields)})"
    return str(error["msg"]).removeprefix("Value error, ")


def load(flags: Mapping[str, Any] | None = None) -> Settings:
    """The settings: ``flags`` (given command-line values) over the environment over the file."""
    read_file(paths.config_file())  # a broken file is one line naming file:line (pydantic-settings reads it again)
    given = {k: v for k, v in (flags or {}).items() if v not in (None, (), [])}
    try:
        return Settings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "?"
        where = ENVIRONMENT.get(name, name)
        raise ConfigError(f"{where}: {_reason(error)}") from None


def search_path() -> tuple[str, ...]:
    """The runbook folders the user's settings name ($RBCONSOLE_PATH, else the config file).

    The command line has already refused a broken config file (exit 2); one broken since then
    (edited while the console runs) leaves only $RBCONSOLE_PATH, and the cause is logged."""
    try:
        return load().runbooks
    except ConfigError as exc:
        logging.getLogger(__name__).warning("runbook search path without the config file: %s", exc)
        raw = os.environ.get(ENVIRONMENT["runbooks"], "")
        return tuple(e for e in raw.split(os.pathsep) if e)
