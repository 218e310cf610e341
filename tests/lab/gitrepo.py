"""Lab fixture: a real git repository in a temp dir, with a release history and tags.

History (oldest first): ``v1.0.0`` (lightweight tag), ``v1.1.0`` (annotated), a branch
``release/1.x`` at v1.1.0, then two commits to ``v2.0.0`` (annotated), where ``main`` and the
work tree are. Built with the git CLI so the repository is exactly what git itself makes.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

_ENV = {
    "GIT_AUTHOR_NAME": "Lab",
    "GIT_AUTHOR_EMAIL": "lab@example.invalid",
    "GIT_COMMITTER_NAME": "Lab",
    "GIT_COMMITTER_EMAIL": "lab@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *argv: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env={**os.environ, **_ENV},
    )
    return done.stdout.strip()


@dataclass
class GitLab:
    path: Path
    tags: dict[str, str] = field(default_factory=dict)  # tag -> commit sha

    def head(self) -> str:
        return git(self.path, "rev-parse", "HEAD")

    def branch(self) -> str:
        return git(self.path, "rev-parse", "--abbrev-ref", "HEAD")

    def commit(self, message: str) -> str:
        (self.path / "VERSION").write_text(message + "\n")
        git(self.path, "add", "VERSION")
        git(self.path, "commit", "-q", "-m", message)
        return self.head()


def make_repo(path: Path) -> GitLab:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    lab = GitLab(path)
    lab.commit("v1.0.0: first release")
    git(path, "tag", "v1.0.0")
    lab.commit("fix: retry payments")
    lab.commit("v1.1.0: orders export")
    git(path, "tag", "-a", "v1.1.0", "-m", "release 1.1.0")
    git(path, "branch", "release/1.x")
    lab.commit("feat: new pricing engine")
    lab.commit("v2.0.0: pricing")
    git(path, "tag", "-a", "v2.0.0", "-m", "release 2.0.0")
    for tag in ("v1.0.0", "v1.1.0", "v2.0.0"):
        lab.tags[tag] = git(path, "rev-parse", f"{tag}^{{commit}}")
    return lab


@pytest.fixture
def git_repo(tmp_path: Path) -> GitLab:
    """A fresh repository of this test's own, checked out on ``main`` at v2.0.0."""
    return make_repo(tmp_path / "repo")
