"""Shared test set-up: a private RBCONSOLE_HOME per test, snapshots under the top-level snapshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_textual_snapshot

REPO = Path(__file__).resolve().parent.parent
RUNBOOKS = REPO / "runbooks"

pytest_plugins = [
    "tests.lab.sshd",
    "tests.lab.postgres",
    "tests.lab.web",
    "tests.lab.gitrepo",
    "tests.lab.prometheus",
    "tests.lab.chat",
    "tests.lab.hostlab",
]


class _TopLevelSnapshots(pytest_textual_snapshot.SVGImageExtension):
    @classmethod
    def dirname(cls, *, test_location) -> str:  # type: ignore[override]
        return str(REPO / "snapshots" / Path(test_location.filepath).stem)


pytest_textual_snapshot.SVGImageExtension = _TopLevelSnapshots


@pytest.fixture(autouse=True)
def rbconsole_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data dir and an empty config file, so nothing touches (or reads) a
    real operator's sessions and settings."""
    home = tmp_path / "rbhome"
    monkeypatch.setenv("RBCONSOLE_HOME", str(home))
    config = tmp_path / "rbconfig.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("RBCONSOLE_CONFIG", str(config))
    for name in (
        "RBCONSOLE_PATH",
        "RBCONSOLE_OPERATOR",
        "RBCONSOLE_SSH_CONFIG",
        "RBCONSOLE_KNOWN_HOSTS",
        "RBCONSOLE_THEME",
    ):
        monkeypatch.delenv(name, raising=False)
    return home
