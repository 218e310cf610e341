"""A dry run walks with stand-ins, but what a live run would stop on is a problem of its
result: in the journal, the printed result line and the record."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.engine import events as ev
from tui.engine.session import Session, StartOptions
from tui.runbook.loader import load_or_raise

RUNBOOK = """schema = 1
id = "dryp"
title = "dry run problems"
service = "svc"

[params.tag]
prompt = "tag to go back to"

[secrets.api_token]
env = "DRYP_API_TOKEN"
[secrets.other]
env = "DRYP_OTHER"

[[checks]]
id = "disk"
kind = "local"
run = "true"

[plans.A]
title = "uses a secret, a param and a read-only DSN"
[[plans.A.steps]]
id = "call"
kind = "local"
run = "echo {{ api_token }} | wc -c"
[[plans.A.steps]]
id = "reset"
kind = "local"
run = "echo git reset --hard {{ tag }}"
[[plans.A.verify]]
id = "rows"
kind = "sql"
dsn = "postgresql://app@127.0.0.1:1/app"
check_dsn_env = "DRYP_RO_DSN"
query = "SELECT 1"

[plans.B]
title = "uses nothing"
[[plans.B.steps]]
id = "note"
kind = "local"
run = "true"
"""


@pytest.fixture
def runbook_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DRYP_API_TOKEN", "DRYP_OTHER", "DRYP_RO_DSN"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "dryp.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    return path


def _run(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "run", str(path), *args],
        capture_output=True, text=True, timeout=60, env=dict(os.environ), stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_dry_run_reports_what_a_live_run_would_stop_on(
    runbook_file: Path, tmp_path: Path, rbconsole_home: Path
) -> None:
    record = tmp_path / "record.md"
    done = _run(runbook_file, "--plan", "A", "--dry-run", "--record", str(record))
    assert done.returncode == 0, done.stdout + done.stderr  # it walked: CI runs it without the secrets
    result = next(line for line in done.stdout.splitlines() if line.startswith("== result:"))
    assert "DRY RUN — walked 2 steps and 1 verification, nothing executed" in result
    assert "3 problem(s) a live run would stop on:" in result
    assert "secret 'api_token': environment variable DRYP_API_TOKEN is not set" in result
    assert "step reset would stop: param 'tag' is empty" in result
    assert "verify rows would stop: environment variable DRYP_RO_DSN (check_dsn_env) is not set" in result
    assert "DRYP_OTHER" not in result  # plan B's secret is not plan A's problem
    text = record.read_text(encoding="utf-8")
    assert "DRY RUN" in text and "3 problem(s) a live run would stop on" in text and "DRYP_RO_DSN" in text
    [session] = list((rbconsole_home / "sessions").iterdir())
    ended = [json.loads(line) for line in (session / "journal.jsonl").read_text().splitlines()][-1]
    assert ended["type"] == ev.SESSION_ENDED and ended["data"]["result"] == "dry_run"
    assert len(ended["data"]["problems"]) == 3


def test_a_dry_run_of_a_plan_with_everything_it_needs_exits_0(runbook_file: Path, rbconsole_home: Path) -> None:
    done = _run(runbook_file, "--plan", "B", "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "problem(s)" not in done.stdout and "warning" not in done.stdout


def test_the_console_order_counts_the_problems_found_at_plan_choice(runbook_file: Path, rbconsole_home: Path) -> None:
    runbook = load_or_raise(runbook_file)

    async def go() -> Session:
        session = Session.start(runbook, str(runbook_file), StartOptions(dry_run=True, values={"tag": "v1"}))
        await session.choose_plan("A")
        await session.run_plan()
        await session.end()
        await session.close()
        return session

    session = asyncio.run(go())
    assert session.dry_run_problems() == [
        "secret 'api_token': environment variable DRYP_API_TOKEN is not set: a live run would stop here"
    ]
    ended = session.events[-1]
    assert ended.data["result"] == "dry_run" and "1 problem(s) a live run would stop on" in ended.data["reason"]
