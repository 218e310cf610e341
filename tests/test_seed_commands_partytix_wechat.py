"""The shell commands of the seed 000 / 001 runbooks, run as written on the lab's real sshd.

The documents' checks ("a backup from the last 24 hours", "the scripts are executable", "the
tag exists") and git steps are only worth having if they pass and fail when they should, so each
one runs here through the ssh executor against files and repositories the test lays out.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.lab.gitrepo import GitLab, git
from tests.lab.sshd import Collector, SshLab, lab_context
from tui.executors.base import ExecContext, Outcome
from tui.executors.ssh import SshExecutor
from tui.runbook.loader import load_or_raise
from tui.runbook.model import Runbook, SshAction
from tui.runbook.placeholders import Value

pytestmark = pytest.mark.lab

RUNBOOKS = Path(__file__).resolve().parent.parent / "runbooks"
WECHAT = load_or_raise(RUNBOOKS / "wechat-backend-phase1.toml")
PARTYTIX = load_or_raise(RUNBOOKS / "partytix-risk.toml")
DAY = 24 * 3600


@pytest.fixture
async def executor() -> AsyncIterator[SshExecutor]:
    ex = SshExecutor()
    try:
        yield ex
    finally:
        await ex.close()


def step(runbook: Runbook, where: str) -> SshAction:
    """``checks.ID`` or ``PLAN.ID`` (a step or a verification of that plan)."""
    part, _, ident = where.partition(".")
    actions = runbook.checks if part == "checks" else [*runbook.plans[part].steps, *runbook.plans[part].verify]
    found = next(a for a in actions if a.id == ident)
    assert isinstance(found, SshAction)
    return found


def context(lab: SshLab, host: str, **values: str) -> ExecContext:
    scope = {name: Value(text, trusted=True) for name, text in values.items()}
    return lab_context(lab, hosts={host: {"address": "alpha"}}, scope=scope)


async def run(executor: SshExecutor, action: SshAction, ctx: ExecContext) -> Outcome:
    return await executor.run(action, ctx, Collector())


def backup(directory: Path, name: str, *, content: bytes = b"SQLite", age: float = 0.0) -> Path:
    path = directory / name
    path.write_bytes(content)
    when = time.time() - age
    os.utime(path, (when, when))
    return path


# --- seed 001: wechat-backend ------------------------------------------------------------------


@pytest.fixture
def wechat_paths(tmp_path: Path) -> dict[str, str]:
    backups = tmp_path / "backups"
    scripts = tmp_path / "app" / "scripts" / "rollback"
    backups.mkdir()
    scripts.mkdir(parents=True)
    return {
        "backup_dir": str(backups),
        "rollback_scripts": str(scripts),
        "app_dir": str(tmp_path / "app"),
        "db_path": str(tmp_path / "staging" / "diagnosis.db"),
    }


async def test_recent_backup_check(ssh_lab: SshLab, executor: SshExecutor, wechat_paths: dict[str, str]) -> None:
    check = step(WECHAT, "checks.backup_recent")
    ctx = context(ssh_lab, "backend", **wechat_paths)
    backups = Path(wechat_paths["backup_dir"])
    assert (await run(executor, check, ctx)).status == "failed", "no backup at all"
    backup(backups, "diagnosis_20260101_000000.db", age=2 * DAY)
    assert (await run(executor, check, ctx)).status == "failed", "only a backup two days old"
    backup(backups, "diagnosis_20260227_010000.db", content=b"")
    assert (await run(executor, check, ctx)).status == "failed", "the recent backup is empty"
    backup(backups, "other_20260227_020000.db")
    assert (await run(executor, check, ctx)).status == "failed", "a recent file not named diagnosis_*.db"
    backup(backups, "diagnosis_20260227_030000.db", age=3600)
    outcome = await run(executor, check, ctx)
    assert outcome.status == "ok", outcome.detail


async def test_backup_size_check(ssh_lab: SshLab, executor: SshExecutor, wechat_paths: dict[str, str]) -> None:
    check = step(WECHAT, "checks.backup_size")
    ctx = context(ssh_lab, "backend", **wechat_paths)
    backups = Path(wechat_paths["backup_dir"])
    assert (await run(executor, check, ctx)).status == "failed", "no backup matches the glob"
    backup(backups, "diagnosis_20260227_010000.db")
    assert (await run(executor, check, ctx)).status == "ok"
    backup(backups, "diagnosis_20260227_020000.db", content=b"")
    assert (await run(executor, check, ctx)).status == "failed", "one backup is empty"


async def test_rollback_scripts_check(ssh_lab: SshLab, executor: SshExecutor, wechat_paths: dict[str, str]) -> None:
    check = step(WECHAT, "checks.scripts")
    ctx = context(ssh_lab, "backend", **wechat_paths)
    scripts = Path(wechat_paths["rollback_scripts"])
    for name in ("rollback_database.sh", "rollback_code.sh"):
        (scripts / name).write_text("#!/bin/sh\n")
    assert (await run(executor, check, ctx)).status == "failed", "rollback_feature_flags.py is missing"
    (scripts / "rollback_feature_flags.py").write_text("")
    assert (await run(executor, check, ctx)).status == "failed", "the .sh scripts are not executable"
    for name in ("rollback_database.sh", "rollback_code.sh"):
        (scripts / name).chmod(0o755)
    outcome = await run(executor, check, ctx)
    assert outcome.status == "ok", outcome.detail


async def test_target_tag_and_code_rollback(ssh_lab: SshLab, executor: SshExecutor, git_repo: GitLab) -> None:
    values = {"app_dir": str(git_repo.path), "target_version": "v1.0.0"}
    ctx = context(ssh_lab, "backend", **values)
    assert (await run(executor, step(WECHAT, "checks.target_tag"), ctx)).status == "ok"
    missing = context(ssh_lab, "backend", app_dir=str(git_repo.path), target_version="v9.9.9")
    assert (await run(executor, step(WECHAT, "checks.target_tag"), missing)).status == "failed"

    confirm = step(WECHAT, "B.confirm_commit")
    assert (await run(executor, confirm, ctx)).status == "failed", "still on v2.0.0"
    outcome = await run(executor, step(WECHAT, "B.checkout"), ctx)
    assert outcome.status == "ok", outcome.detail
    assert git_repo.head() == git_repo.tags["v1.0.0"]
    outcome = await run(executor, confirm, ctx)
    assert outcome.status == "ok", outcome.detail


async def test_database_checks_and_restore_steps(
    ssh_lab: SshLab, executor: SshExecutor, wechat_paths: dict[str, str]
) -> None:
    ctx = context(ssh_lab, "backend", **wechat_paths)
    db = Path(wechat_paths["db_path"])
    db_conn = step(WECHAT, "checks.db_conn")
    assert (await run(executor, db_conn, ctx)).status == "failed"
    assert not db.exists(), "the check opens the database read-only and never creates it"
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:
        conn.execute("create table t (x)")
    conn.close()
    assert (await run(executor, db_conn, ctx)).status == "ok"

    backups = Path(wechat_paths["backup_dir"])
    backup(backups, "diagnosis_20260226_000000.db", age=DAY)
    newest = backup(backups, "diagnosis_20260227_000000.db", age=60)
    picked = await run(executor, step(WECHAT, "C.pick_backup"), ctx)
    assert picked.captured == {"latest_backup": str(newest)}

    outcome = await run(executor, step(WECHAT, "C.backup_current"), ctx)
    assert outcome.status == "ok", outcome.detail
    [safety] = backups.glob("pre_rollback_backup_*.db")
    assert safety.read_bytes() == db.read_bytes()


# --- seed 000: partytix ----------------------------------------------------------------------------


def identify(repo: GitLab) -> None:
    """A committer for the commits the runbook's own git revert makes on the host."""
    git(repo.path, "config", "user.name", "Lab")
    git(repo.path, "config", "user.email", "lab@example.invalid")


async def test_revert_runs_without_an_editor(ssh_lab: SshLab, executor: SshExecutor, git_repo: GitLab) -> None:
    identify(git_repo)
    bad = git_repo.head()
    before = (git_repo.path / "VERSION").read_text()
    ctx = context(ssh_lab, "app", deploy_dir=str(git_repo.path), commit_hash=bad[:12])
    outcome = await run(executor, step(PARTYTIX, "db-connection.revert"), ctx)
    assert outcome.status == "ok", outcome.detail
    assert git(git_repo.path, "rev-parse", "HEAD~1") == bad
    assert (git_repo.path / "VERSION").read_text() != before
    assert git(git_repo.path, "log", "-1", "--format=%s").startswith("Revert ")


async def test_downtime_rollback_resets_to_the_old_commit(
    ssh_lab: SshLab, executor: SshExecutor, git_repo: GitLab
) -> None:
    old = git_repo.tags["v1.1.0"]
    ctx = context(ssh_lab, "app", deploy_dir=str(git_repo.path), old_commit=old)
    outcome = await run(executor, step(PARTYTIX, "downtime.restore"), ctx)
    assert outcome.status == "ok", outcome.detail
    assert (git_repo.branch(), git_repo.head()) == ("main", old)
