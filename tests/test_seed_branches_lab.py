"""Where a seed document says "or", "if necessary" or "if the problem persists", its runbook
branches: each branch driven for real through the engine against the lab's sshd (the seed's
own steps, its `lab` profile, paths moved into the test's directory)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.lab.hostlab import SeedHost
from tests.lab.sshd import SshLab
from tests.seed_support import RUNBOOKS
from tui.engine import events as ev
from tui.engine.session import Session, StartOptions
from tui.runbook.loader import load_or_raise

pytestmark = pytest.mark.lab

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots" / "test_seed_branches_lab"


@pytest.fixture
def lab(seed_host: SeedHost) -> SshLab:
    """The seed service host's sshd (every alias the seeds' lab profiles name)."""
    return seed_host.ssh


def seed_session(name: str, plan: str, lab: SshLab, values: dict[str, str], **options: object) -> Session:
    path = RUNBOOKS / name
    start = StartOptions(
        plan=plan, profile="lab", values=values, ssh_config=str(lab.config), known_hosts=str(lab.known_hosts),
        headless=True, yes=True, operator="lab-tester", **options,  # type: ignore[arg-type]
    )  # fmt: skip
    return Session.start(load_or_raise(path), str(path), start)


async def steps(session: Session, plan: str, *ids: str) -> dict[str, str]:
    await session.choose_plan(plan)
    for step_id in ids:
        await session.run_step(step_id)
    return {a.id: a.status for a in session.state.in_phase("step")}


def skip_reason(session: Session, step_id: str) -> str:
    action = session.state.action("step", step_id)
    assert action is not None
    return action.skip_reason


# --- seed 001: "./rollback_database.sh --restore latest … 或者手动执行 cp …" --------------------


@pytest.mark.parametrize("script_works", [True, False])
async def test_001_restore_by_script_or_by_hand(lab: SshLab, tmp_path: Path, script_works: bool) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    older, newest = backups / "diagnosis_20260101_020000.db", backups / "diagnosis_20260102_020000.db"
    older.write_text("older backup")
    newest.write_text("newest backup")
    os.utime(older, (time.time() - 3600, time.time() - 3600))
    script = backups / "rollback_database.sh"
    script.write_text(f'#!/bin/sh\necho rollback_database.sh "$@"\nexit {0 if script_works else 3}\n')
    script.chmod(0o755)
    db = tmp_path / "staging" / "diagnosis.db"
    db.parent.mkdir()
    db.write_text("broken data")
    values = {"reason": "诊断数据异常", "backup_dir": str(backups), "db_path": str(db)}
    session = seed_session("wechat-backend-phase1.toml", "C", lab, values)
    try:
        status = await steps(session, "C", "pick_backup", "restore", "restore_manual")
    finally:
        await session.close()
    assert session.state.captured["latest_backup"] == str(newest)
    if script_works:
        assert status == {"pick_backup": "ok", "restore": "ok", "restore_manual": "skipped"}
        assert skip_reason(session, "restore_manual") == (
            "condition false (steps.restore.failed; steps.restore.failed = false)"
        )
        assert db.read_text() == "broken data"  # the by-hand copy did not run
    else:
        assert status == {"pick_backup": "ok", "restore": "failed", "restore_manual": "ok"}
        assert db.read_text() == "newest backup"  # copied by hand, on the lab host
        started = next(e for e in session.events if e.type == ev.STEP_STARTED and e.data["id"] == "restore_manual")
        assert started.data["condition"]["values"] == "steps.restore.failed = true"


# --- seed 002: "重启数据库服务（如有必要）" ------------------------------------------------------


@pytest.mark.parametrize("with_it", [False, True])
async def test_002_restart_mongodb_only_if_chosen(lab: SshLab, seed_host: SeedHost, with_it: bool) -> None:
    seed_host.define("mongodb", "mongodb", "systemd")
    seed_host.start("mongodb")
    before = seed_host.process("mongodb")
    values = {"reason": "订单数据异常", "rollback_version": "20260101"}
    chosen = ("restart_mongodb",) if with_it else ()
    session = seed_session("shop-rollback.toml", "db", lab, values, with_steps=chosen)
    try:
        status = await steps(session, "db", "restart_mongodb")
    finally:
        await session.close()
    decided = [(c["question"], c["answer"], c["by"]) for c in session.state.confirmations]
    after = seed_host.process("mongodb")
    assert before is not None and after is not None
    if with_it:
        # it ran: the lab host's systemctl restarted the lab's MongoDB stand-in process
        assert decided == [("optional", "run", "--with"), ("destructive", "yes", "--yes")]
        assert status == {"restart_mongodb": "ok"}
        assert after["pid"] != before["pid"]
        describe = next(e for e in session.events if e.type == ev.STEP_STARTED)
        assert "systemctl restart mongodb" in " ".join(describe.data["describe"])
    else:
        assert decided == [("optional", "skip", "headless")]  # --yes did not answer it
        assert status == {"restart_mongodb": "skipped"}
        assert skip_reason(session, "restart_mongodb") == "optional, not run headless (--with restart_mongodb runs it)"
        assert after["pid"] == before["pid"]


# --- seed 000: "如果问题持续，回滚到单体架构" --------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30)
    return done.stdout.strip()


@pytest.mark.parametrize("persists", [False, True])
async def test_000_back_to_the_monolith_if_the_problem_persists(
    lab: SshLab, tmp_path: Path, persists: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTYTIX_SMOKE_PASSWORD", "lab-smoke-password")  # a secret the plan reads
    repo = tmp_path / "partytix"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "lab")
    git(repo, "config", "user.email", "lab@example.com")
    (repo / "app.txt").write_text("monolith\n")
    git(repo, "add", "."), git(repo, "commit", "-qm", "monolith")
    (repo / "app.txt").write_text("separated front end\n")
    git(repo, "commit", "-qam", "separate the front end")
    separation = git(repo, "rev-parse", "--short", "HEAD")
    values = {"reason": "性能下降", "deploy_dir": str(repo), "separation_commit": separation}
    chosen = ("monolith",) if persists else ()
    session = seed_session("partytix-risk.toml", "performance", lab, values, with_steps=chosen)
    try:
        status = await steps(session, "performance", "monolith")
    finally:
        await session.close()
    if persists:
        assert status == {"monolith": "ok"}
        assert (repo / "app.txt").read_text() == "monolith\n"  # the separation really reverted
        assert git(repo, "log", "-1", "--format=%s").startswith('Revert "separate the front end"')
    else:
        assert status == {"monolith": "skipped"}
        assert (repo / "app.txt").read_text() == "separated front end\n"
