"""A repository owned by another user: git's safe.directory refusal is said as what it is, with the fix.

Real git, a real repository chowned to ``nobody``: the tests run as root, and git refuses a
repository whose owner is not the user running it, whoever that is.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.lab.gitrepo import GitLab, git, make_repo
from tests.test_exec_git import RUNBOOK
from tui.executors.base import ExecContext
from tui.executors.git import GitExecutor
from tui.runbook.model import GitAction, SshSettings

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("git") is None, reason="needs root (to chown) and git"
)


@pytest.fixture
def foreign_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitLab:
    lab = make_repo(tmp_path / "it's a repo")  # a quote in the path: the suggested command must quote it
    nobody = pwd.getpwnam("nobody")
    for root, dirs, files in os.walk(lab.path):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), nobody.pw_uid, nobody.pw_gid)
    os.chown(lab.path, nobody.pw_uid, nobody.pw_gid)
    # No safe.directory from a real global or system config may let it through.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return lab


def _run(repo: Path, tag: str) -> tuple[str, str]:
    action = GitAction(id="tag_exists", kind="git", repo=str(repo), tag=tag)
    outcome = asyncio.run(
        GitExecutor().run(action, ExecContext(RUNBOOK, {}, {}, SshSettings(), check_mode=True), lambda *a: None)
    )
    return outcome.status, outcome.detail


def test_the_refusal_is_reported_as_ownership_with_the_fix(foreign_repo: GitLab) -> None:
    refused = subprocess.run(["git", "-C", str(foreign_repo.path), "status"], capture_output=True, text=True)
    assert refused.returncode != 0 and "dubious ownership" in refused.stderr  # git itself refuses here
    status, detail = _run(foreign_repo.path, "v1.1.0")  # a tag that exists
    assert status == "failed"
    assert "does not exist" not in detail
    assert "owned by another user" in detail and "safe.directory" in detail
    quoted = subprocess.run(
        ["bash", "-c", f"printf %s {detail.rsplit('safe.directory ', 1)[1]}"], capture_output=True, text=True
    )
    assert quoted.stdout == str(foreign_repo.path)  # the suggested command, pasted, names this folder


def test_after_the_fix_the_tag_is_found(foreign_repo: GitLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gitconfig"
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    git(tmp_path, "config", "--file", str(config), "--add", "safe.directory", str(foreign_repo.path))
    status, detail = _run(foreign_repo.path, "v1.1.0")
    assert status == "ok", detail
    status, detail = _run(foreign_repo.path, "v9.9.9")
    assert (status, "tag v9.9.9 does not exist" in detail) == ("failed", True)
