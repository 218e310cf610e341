"""Every place rbconsole reads or writes, decided in one module.

``RBCONSOLE_HOME`` moves all state (sessions, drill history) so tests and drills never touch a
real operator's data. Runbook folders: the bundled ones, then the search path of the user's
settings (``$RBCONSOLE_PATH``, os.pathsep-separated, else the config file's ``runbooks``, see
:mod:`tui.config`), then ``--runbooks``.
"""

from __future__ import annotations

import os
from pathlib import Path

import tui

APP_NAME = "rbconsole"


def home() -> Path:
    override = os.environ.get("RBCONSOLE_HOME")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def sessions_dir() -> Path:
    return home() / "sessions"


def history_dir() -> Path:
    return home() / "history"


def log_file(name: str) -> Path:
    """Where a command writes the cause of an error it reports in one line."""
    return home() / "logs" / f"{name}.log"


CONFIG_ENV = "RBCONSOLE_CONFIG"
# setting -> the environment variable that sets it (RBCONSOLE_PATH predates the file: its name stays).
SETTINGS_ENVIRONMENT: dict[str, str] = {
    "operator": "RBCONSOLE_OPERATOR",
    "runbooks": "RBCONSOLE_PATH",
    "ssh_config": "RBCONSOLE_SSH_CONFIG",
    "known_hosts": "RBCONSOLE_KNOWN_HOSTS",
    "theme": "RBCONSOLE_THEME",
}


def settings_to_read() -> bool:
    """Whether a config file or a settings variable exists (if not, the flags and defaults are all)."""
    if os.environ.get(CONFIG_ENV) or any(os.environ.get(name) for name in SETTINGS_ENVIRONMENT.values()):
        return True
    return config_file().is_file()


def config_file() -> Path:
    """The user's config file (read by :mod:`tui.config`): ``$RBCONSOLE_CONFIG``, else the user config dir's."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


def bundled_runbooks() -> Path:
    """The runbooks shipped with the package (``runbooks/`` in a source checkout)."""
    package = Path(tui.__file__).resolve().parent
    installed = package / "_runbooks"
    return installed if installed.is_dir() else package.parent / "runbooks"


def runbook_dirs(extra: list[str] | None = None) -> list[Path]:
    from tui.config import search_path

    dirs = [bundled_runbooks()]
    dirs.extend(Path(entry).expanduser() for entry in search_path())
    dirs.extend(Path(e).expanduser() for e in extra or [])
    seen: set[Path] = set()
    unique = []
    for d in dirs:
        key = d.resolve() if d.exists() else d
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return unique


def runbook_files(extra: list[str] | None = None) -> list[Path]:
    files: list[Path] = []
    for d in runbook_dirs(extra):
        if d.is_dir():
            files.extend(sorted(d.glob("*.toml")))
    return files
