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
    """Every test gets its own data dir, so nothing touches a real operator's sessions."""
    home = tmp_path / "rbhome"
    monkeypatch.setenv("RBCONSOLE_HOME", str(home))
    monkeypatch.delenv("RBCONSOLE_PATH", raising=False)
    return home
