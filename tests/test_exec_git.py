"""The git executor against real repositories made by the git CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from tests.lab.gitrepo import GitLab, git
from tui.executors.base import ExecContext
from tui.executors.git import GitExecutor
from tui.runbook.model import Runbook, SshSettings, Step
from tui.runbook.placeholders import Value

RUNBOOK = Runbook.model_validate(
    {
        "schema": 1,
        "id": "t",
        "title": "t",
        "service": "svc",
        "plans": {"A": {"title": "A", "steps": [{"id": "m", "kind": "manual"}]}},
    }
)


def step(**fields: Any) -> Step:
    return TypeAdapter(Step).validate_python({"id": "g", "kind": "git", **fields})


def context(repo: GitLab | Path, *, check: bool = False, dry_run: bool = False, **values: Value) -> ExecContext:
    path = repo.path if isinstance(repo, GitLab) else repo
    scope = {"repo": Value(str(path), trusted=True), "target_version": Value("v1.1.0", trusted=True), **values}
    return ExecContext(RUNBOOK, scope, {}, SshSettings(), check_mode=check, dry_run=dry_run)


class Sink:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def __call__(self, host: str, stream: str, text: str) -> None:
        self.parts.append(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


async def test_tag_exists_check_lists_commits_and_changes_nothing(git_repo: GitLab) -> None:
    sink = Sink()
    before = git_repo.head()
    action = step(repo="{{ repo }}", tag="{{ target_version }}", checkout=True)
    outcome = await GitExecutor().run(action, context(git_repo, check=True), sink)
    assert outcome.status == "ok", outcome.detail
    assert outcome.summary == f"tag v1.1.0 = {git_repo.tags['v1.1.0'][:12]}"
    lines = sink.text.splitlines()
    assert lines[0] == f"tag v1.1.0 -> {git_repo.tags['v1.1.0'][:12]}"
    assert lines[1] == f"HEAD (main) -> {before[:12]}"
    assert lines[2] == "2 commits rolled back:"
    assert lines[3].endswith(" v2.0.0: pricing")
    assert lines[4].endswith(" feat: new pricing engine")
    assert git_repo.head() == before  # a check never moves the work tree


async def test_missing_tag_fails_clearly(git_repo: GitLab) -> None:
    outcome = await GitExecutor().run(step(repo=str(git_repo.path), tag="v9.9.9"), context(git_repo), Sink())
    assert outcome.status == "failed"
    assert outcome.detail == f"git g in {git_repo.path}: tag v9.9.9 does not exist"


async def test_a_branch_is_not_a_tag(git_repo: GitLab) -> None:
    as_tag = await GitExecutor().run(step(repo=str(git_repo.path), tag="release/1.x"), context(git_repo), Sink())
    assert as_tag.status == "failed"
    as_ref = await GitExecutor().run(step(repo=str(git_repo.path), ref="release/1.x"), context(git_repo), Sink())
    assert as_ref.status == "ok", as_ref.detail


async def test_checkout_moves_to_the_tag(git_repo: GitLab) -> None:
    sink = Sink()
    action = step(repo=str(git_repo.path), tag="v1.0.0", checkout=True)
    outcome = await GitExecutor().run(action, context(git_repo), sink)
    assert outcome.status == "ok", outcome.detail
    assert git_repo.head() == git_repo.tags["v1.0.0"]
    assert git_repo.branch() == "HEAD"  # detached at the tag, as `git checkout v1.0.0` leaves it
    assert "4 commits rolled back:" in sink.text
    assert f"checked out v1.0.0: HEAD is now {git_repo.tags['v1.0.0'][:12]}" in sink.text
    again = Sink()
    assert (await GitExecutor().run(action, context(git_repo), again)).ok
    assert "already at v1.0.0" in again.text


async def test_checkout_of_a_branch_stays_on_it_and_rolls_forward(git_repo: GitLab) -> None:
    git(git_repo.path, "checkout", "-q", "v1.0.0")
    sink = Sink()
    outcome = await GitExecutor().run(step(repo=str(git_repo.path), ref="main", checkout=True), context(git_repo), sink)
    assert outcome.status == "ok", outcome.detail
    assert git_repo.branch() == "main"
    assert "4 commits brought in:" in sink.text


async def test_checkout_refused_with_local_changes(git_repo: GitLab) -> None:
    (git_repo.path / "VERSION").write_text("hand edited on the box\n")
    outcome = await GitExecutor().run(
        step(repo=str(git_repo.path), tag="v1.0.0", checkout=True), context(git_repo), Sink()
    )
    assert outcome.status == "failed"
    assert (
        "checkout of v1.0.0 refused: error: Your local changes to the following files would be overwritten"
        in outcome.detail
    )
    assert git_repo.head() == git_repo.tags["v2.0.0"]


@pytest.mark.parametrize(
    "ref",
    [
        "--upload-pack=touch /tmp/pwn",
        "-b",
        "v1..v2",
        "ext::sh -c touch%20/tmp/pwn",
        "HEAD~1",
        "v1.0.0^{tree}",
        "a b",
        "@{-1}",
        "",
    ],
)
async def test_hostile_refs_are_refused_before_git_runs(git_repo: GitLab, ref: str) -> None:
    action = step(repo=str(git_repo.path), ref="{{ ref }}", checkout=True)
    outcome = await GitExecutor().run(action, context(git_repo, ref=Value(ref)), Sink())
    assert outcome.status == "error"
    assert outcome.detail == f"g: {ref!r} is not a valid git ref name"
    assert git_repo.head() == git_repo.tags["v2.0.0"]


async def test_not_a_repository(tmp_path: Path) -> None:
    outcome = await GitExecutor().run(step(repo=str(tmp_path), tag="v1"), context(tmp_path), Sink())
    assert outcome.detail == f"git g in {tmp_path}: not a git repository"
    outcome = await GitExecutor().run(step(repo=str(tmp_path / "nope"), tag="v1"), context(tmp_path), Sink())
    assert outcome.detail == f"git g in {tmp_path / 'nope'}: no such directory"


async def test_capture_from_the_output(git_repo: GitLab) -> None:
    action = step(repo=str(git_repo.path), tag="v1.1.0", capture={"sha": "regex:-> ([0-9a-f]{12})"})
    outcome = await GitExecutor().run(action, context(git_repo), Sink())
    assert outcome.captured == {"sha": git_repo.tags["v1.1.0"][:12]}


async def test_dry_run_and_describe(git_repo: GitLab) -> None:
    action = step(repo="{{ repo }}", tag="{{ target_version }}", checkout=True)
    ctx = context(git_repo, dry_run=True)
    assert (await GitExecutor().run(action, ctx, Sink())).status == "skipped"
    assert git_repo.head() == git_repo.tags["v2.0.0"]
    lines = GitExecutor().describe(action, ctx)
    assert lines[0] == f"git -C {git_repo.path} rev-parse --verify --end-of-options refs/tags/v1.1.0^{{commit}}"
    assert lines[-1].startswith(f"git -C {git_repo.path} checkout --quiet v1.1.0")


async def test_terminal_escapes_in_commit_messages_are_shown_not_obeyed(git_repo: GitLab) -> None:
    git_repo.commit("evil \x1b[2J\x1b]0;owned\x07 subject")
    sink = Sink()
    assert (await GitExecutor().run(step(repo=str(git_repo.path), tag="v2.0.0"), context(git_repo), sink)).ok
    assert "\x1b" not in sink.text and "evil \\x1b[2J\\x1b]0;owned\\x07 subject" in sink.text
