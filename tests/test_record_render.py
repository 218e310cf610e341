"""The rollback record rendered from journal events alone (Markdown and JSON)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tui.engine.events import Event
from tui.engine.session import Session, StartOptions
from tui.record import build, render_json, render_markdown
from tui.runbook.loader import load_or_raise

DATA = Path(__file__).parent / "data"


def journal(*events: tuple[str, dict[str, object]]) -> list[Event]:
    return [Event(seq, 1_767_000_000.0 + seq * 7, kind, data) for seq, (kind, data) in enumerate(events, 1)]


STARTED = (
    "session_started",
    {
        "session": "20260101-000000-abc123",
        "runbook_id": "orders",
        "runbook_title": "订单服务回滚",
        "service": "orders-api",
        "current_version": "v3.2.0",
        "target_version": "v3.1.4",
        "operator": "李雷",
        "reason": "5xx 激增",
        "severity": "P0",
        "params": {"ticket": "INC-7"},
        "mode": "drill",
        "scenario": "db-down",
        "dry_run": False,
        "yes": True,
        "record": {"title": "", "sections": [{"title": "影响评估", "body": "用户下单失败"}], "retrospective": []},
        "checklists": {
            "pre": ["通知团队", {"text": "健康检查", "check": "health"}],
            "post": ["错误率 < 1%"],
            "during": [],
            "followup": [],
        },
        "checks": [{"id": "health", "title": "API answers", "kind": "http", "severity": "blocking"}],
    },
)
PLAN = (
    "plan_chosen",
    {
        "plan": "B",
        "title": "数据库回滚",
        "target_minutes": 15,
        "recommended": "A",
        "reason": "schema changed",
        "steps": [
            {"id": "stop", "title": "Stop writers", "kind": "ssh"},
            {"id": "restore", "title": "Restore | backup", "kind": "sql"},
            {"id": "start", "title": "Start", "kind": "ssh"},
        ],
        "verify": [{"id": "version", "title": "Version is v3.1.4", "kind": "http"}],
    },
)


def finished(step_id: str, **extra: object) -> tuple[str, dict[str, object]]:
    data: dict[str, object] = {
        "id": step_id,
        "phase": "step",
        "attempt": 1,
        "status": "ok",
        "duration": 1.5,
        "exit_status": 0,
    }
    return ("step_finished", data | extra)


def crashed_session() -> list[Event]:
    hosts = {
        "app1": {"status": "ok", "exit_status": 0, "detail": "", "started": 1_767_000_030.0, "duration": 1.2},
        "app2": {
            "status": "failed",
            "exit_status": 1,
            "detail": "exit status 1",
            "started": 1_767_000_031.0,
            "duration": 2.0,
        },
    }
    return journal(
        STARTED,
        ("triage_answered", {"node": "level", "ask": "多严重？", "option": 0, "label": "P0: 全站不可用"}),
        ("triage_reached", {"node": "roll", "text": "回滚", "plan": "A"}),
        PLAN,
        ("check_started", {"id": "health", "phase": "pre", "attempt": 1}),
        (
            "check_finished",
            {"id": "health", "phase": "pre", "attempt": 1, "status": "ok", "duration": 0.1, "severity": "blocking"},
        ),
        ("checklist_ticked", {"list": "pre", "index": 1, "text": "健康检查", "ticked": True, "by": "check:health"}),
        ("step_started", {"id": "stop", "phase": "step", "index": 0, "attempt": 1}),
        finished(
            "stop",
            status="failed",
            hosts=hosts,
            excerpt={"app2": "stopping\n```\nboom | pipe"},
            detail="1 of 2 hosts failed",
        ),
        ("confirmation", {"id": "restore", "phase": "step", "question": "destructive", "answer": "yes", "by": "--yes"}),
        ("step_started", {"id": "restore", "phase": "step", "index": 1, "attempt": 1}),
        ("note", {"text": "DBA on the bridge", "by": "李雷"}),
    )


def test_crashed_session_record_shows_what_happened_and_what_is_unknown() -> None:
    text = render_markdown(crashed_session())
    assert "> **DRILL 演练**" in text
    assert "| 回滚人员 · Operator | 李雷 |" in text
    assert "| 版本 · Versions | v3.2.0 → v3.1.4 |" in text
    assert "| 方案 · Plan | B — 数据库回滚 (recommended A; schema changed) |" in text
    assert "| 模式 · Mode | DRILL 演练 (scenario db-down) |" in text
    assert "1. 多严重？ → **P0: 全站不可用**" in text
    assert "| health API answers | ok | blocking | 0.1s |  |" in text
    assert "| 1 | stop Stop writers | app1 |" in text and "| 1 | stop Stop writers | app2 |" in text
    assert "| 1.2s | 0 | ok |" in text and "| 2.0s | 1 | failed: exit status 1 |" in text
    assert "| 2 | restore Restore \\| backup | sql |" in text and "⚠️ outcome unknown (interrupted)" in text
    assert "| 3 | start Start | ssh |" in text and "| not run |" in text
    assert "````text\nstopping\n```\nboom | pipe\n````" in text  # a fence the output cannot close
    assert "- [x] 健康检查 (check:health)" in text and "- [ ] 通知团队" in text
    assert "Unticked (2): 通知团队; 错误率 < 1%" in text
    assert "- [x] ⏸️ 中断 · interrupted — the session did not end (it can be resumed)" in text
    assert text.startswith("> **IN PROGRESS — not a final record**")
    assert "DBA on the bridge" in text
    assert "## 影响评估\n\n用户下单失败" in text
    assert "destructive **restore**: yes (--yes)" in text


def test_live_session_shows_the_running_step_as_running() -> None:
    record = build(crashed_session(), live=True)
    assert record["steps"][1]["status"] == "running"
    assert record["result"] == "running"


def test_json_record_is_the_same_data() -> None:
    data = json.loads(render_json(crashed_session()))
    assert data["basic"]["operator"] == "李雷"
    assert [s["status"] for s in data["steps"]] == ["failed", "unknown", "not run"]
    assert data["steps"][0]["hosts"]["app2"]["exit_status"] == 1
    assert data["checklists"]["pre"][1]["ticked"] is True
    assert data["verification"][0]["status"] == "not run"
    assert data["timeline"][0]["text"] == "session started by 李雷 (DRILL)"


async def test_record_of_a_real_run_needs_nothing_but_the_journal(tmp_path: Path, rbconsole_home: Path) -> None:
    runbook_file = tmp_path / "rb.toml"
    shutil.copy(DATA / "engine_long.toml", runbook_file)
    runbook = load_or_raise(runbook_file)
    session = Session.start(
        runbook, str(runbook_file), StartOptions(values={"dir": str(tmp_path)}, yes=True, dry_run=True)
    )
    await session.choose_plan("A")
    await session.run_plan()
    await session.verify()
    await session.end()
    await session.close()
    runbook_file.unlink()  # the record must not need the runbook any more
    exported = subprocess.run(
        [sys.executable, "-m", "tui", "export", session.id, "-o", str(tmp_path / "r.md")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    text = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "> **DRY RUN 空跑**" in text
    assert "| 2 | long Long step | local |" in text and "dry run — not executed" in text
    assert "| last-ran | dry run — not executed |" in text
    assert "| 模式 · Mode | DRY RUN 空跑 |" in text and "LIVE" not in text
    assert "- [x] 🔍 空跑 · DRY RUN — nothing was executed; this is not a rollback" in text
    assert "回滚成功" not in text and "[x] ✅" not in text  # a walk ticks no success box
    assert "Reason: walked 3 steps and 1 verification, nothing executed" in text
    assert text == render_markdown(session.events)


async def test_record_sections_get_the_values_known_at_start(tmp_path: Path, rbconsole_home: Path) -> None:
    runbook_file = tmp_path / "rb.toml"
    text = (DATA / "engine_long.toml").read_text(encoding="utf-8")
    text += '\n[record]\ntitle = "{{ service }} rollback by {{ operator }}"\n'
    text += 'sections = [ { title = "Scope", body = "dir {{ dir }} on {{ target_version }}" } ]\n'
    runbook_file.write_text(text, encoding="utf-8")
    runbook = load_or_raise(runbook_file)
    session = Session.start(
        runbook, str(runbook_file), StartOptions(values={"dir": "/srv/x"}, yes=True, dry_run=True, operator="ana")
    )
    await session.end()
    await session.close()
    markdown = render_markdown(session.events)
    assert "rollback by ana" in markdown and "dir /srv/x on " + runbook.target_version in markdown
    assert "{{" not in markdown
