"""Drift against drills in a live record: baselines journaled with the plan choice, each step's
time against its baseline journaled with its end, listed by the record and the headless printer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_drill_demo import journals, rbconsole
from tui.drill import history
from tui.drill.drift import plan_baselines
from tui.drill.summary import DrillRun, StepTime
from tui.engine import events as ev
from tui.engine.session import Session, StartOptions
from tui.record import build, render_markdown
from tui.runbook.loader import load_or_raise

RUNBOOK = """
schema = 1
id = "drifty"
title = "a plan whose middle step can nap"
service = "svc"

[vars]
nap = "0"

[plans.A]
title = "quick, a nap, quick"
[[plans.A.steps]]
id = "quick"
kind = "local"
run = "true"
[[plans.A.steps]]
id = "nap"
kind = "local"
run = "sleep {{ nap }}"
[[plans.A.steps]]
id = "last"
kind = "local"
run = "true"
[[plans.A.verify]]
id = "fine"
kind = "local"
run = "true"

[[drills]]
id = "practice"
title = "practice"
plan = "A"
"""

SECTION = "## 与演练对比 · Drift against drills"


@pytest.fixture
def runbook(tmp_path: Path) -> Path:
    path = tmp_path / "drifty.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    return path


def finished_steps(events: list[ev.Event]) -> dict[str, dict]:
    return {e.data["id"]: e.data for e in events if e.type == ev.STEP_FINISHED and e.data["phase"] == "step"}


def test_two_drills_then_a_slower_live_step_is_journaled_printed_and_recorded(runbook: Path, tmp_path: Path) -> None:
    for _ in range(2):
        done = rbconsole("drill", str(runbook), "--headless", "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
    known = plan_baselines("drifty", "A")
    assert known["nap"].samples == 2 and known["nap"].seconds < 0.5

    record = tmp_path / "live.md"
    live = rbconsole("run", str(runbook), "--plan", "A", "--yes", "--var", "nap=1.6", "--record", str(record))
    assert live.returncode == 0, live.stdout + live.stderr
    events = journals()[-1]
    chosen = next(e.data for e in events if e.type == ev.PLAN_CHOSEN)
    assert set(chosen["baselines"]) == {"quick", "nap", "last"}
    assert chosen["baselines"]["nap"] == {"seconds": round(known["nap"].seconds, 3), "samples": 2}

    nap = finished_steps(events)["nap"]["drift"]
    assert nap["flagged"] and nap["seconds"] >= 1.6 and nap["baseline"] == chosen["baselines"]["nap"]["seconds"]
    assert nap["text"].startswith("step 2 (nap): ") and "x its drill time (" in nap["text"]
    assert nap["ratio"] == pytest.approx(nap["seconds"] / nap["baseline"], rel=0.01)
    assert not finished_steps(events)["quick"]["drift"]["flagged"], "a few ms either way is not news"

    assert f"  drift: {nap['text']}" in live.stdout.splitlines()
    assert live.stdout.count("  drift: ") == 1
    text = record.read_text(encoding="utf-8")
    assert SECTION in text and f"- ⚠️ {nap['text']}" in text
    assert "(3 of its steps have one)" in text
    assert text.index("## 回滚过程 · Steps") < text.index(SECTION) < text.index("## 回滚验证 · Verification")

    exported = rbconsole("export", events[0].data["session"], "--format", "json")
    assert exported.returncode == 0, exported.stderr
    listed = json.loads(exported.stdout)["drift"]
    assert [d["id"] for d in listed] == ["quick", "nap", "last"]
    assert listed[1] == {"index": 2, "id": "nap", "title": "", **nap}


def test_no_drill_history_means_no_drift_anywhere(runbook: Path, tmp_path: Path) -> None:
    record = tmp_path / "live.md"
    live = rbconsole("run", str(runbook), "--plan", "A", "--yes", "--record", str(record))
    assert live.returncode == 0, live.stdout + live.stderr
    (events,) = journals()
    assert next(e.data for e in events if e.type == ev.PLAN_CHOSEN)["baselines"] == {}
    assert all("drift" not in data for data in finished_steps(events).values())
    assert "drift" not in live.stdout
    assert SECTION not in record.read_text(encoding="utf-8")
    assert build(events)["drift"] == []


def saved_drill(session: str, **seconds: float) -> None:
    steps = [StepTime(step_id, status="ok", seconds=took, attempts=1) for step_id, took in seconds.items()]
    history.save(DrillRun(session, "drifty", plan="A", started=1.0, result="success", steps=steps))


FLAKY = """
schema = 1
id = "drifty"
title = "fails once, then passes"
service = "svc"

[vars]
flag = "/nonexistent"

[plans.A]
title = "quick, then flaky"
[[plans.A.steps]]
id = "quick"
kind = "local"
run = "true"
[[plans.A.steps]]
id = "flaky"
kind = "local"
run = "test -e {{ flag }} || (touch {{ flag }}; exit 1)"
[[plans.A.steps]]
id = "never"
kind = "local"
run = "true"
"""


async def test_a_step_far_faster_than_its_drills_is_flagged_and_a_retry_counts_every_attempt(tmp_path: Path) -> None:
    saved_drill("d1", quick=100.0, flaky=0.01, never=1.0)
    path = tmp_path / "flaky.toml"
    path.write_text(FLAKY, encoding="utf-8")
    options = StartOptions(values={"flag": str(tmp_path / "flag")})
    session = Session.start(load_or_raise(path), str(path), options, baselines=plan_baselines)
    await session.choose_plan("A")
    assert (await session.run_step("quick")).ok
    assert (await session.run_step("flaky")).status == "failed"
    assert "drift" not in finished_steps(session.events)["flaky"], "a failed attempt says nothing of drift"
    assert (await session.run_step("flaky")).ok
    await session.end()
    await session.close()

    steps = finished_steps(session.events)
    quick = steps["quick"]["drift"]
    assert quick["flagged"] and quick["text"].startswith("step 1 (quick): ")
    assert "x faster than its drill time (" in quick["text"]
    attempts = [e.data["duration"] for e in session.events if e.type == ev.STEP_FINISHED and e.data["id"] == "flaky"]
    assert len(attempts) == 2 and steps["flaky"]["drift"]["seconds"] >= sum(attempts)
    assert [d["id"] for d in build(session.events)["drift"]] == ["quick", "flaky"], "a step never run has none"
    assert f"- ⚠️ {quick['text']}" in render_markdown(session.events)


async def test_a_dry_run_or_a_session_without_history_journals_no_baselines_and_a_drill_does(runbook: Path) -> None:
    saved_drill("d1", quick=100.0)
    cases = [(StartOptions(dry_run=True), plan_baselines), (StartOptions(), None)]
    cases.append((StartOptions(mode="drill", scenario="practice"), plan_baselines))
    for options, source in cases:
        session = Session.start(load_or_raise(runbook), str(runbook), options, baselines=source)
        await session.choose_plan("A")
        assert (await session.run_step("quick")).ok
        await session.close()
        if options.mode == "drill":
            # The plan screen flags a drill's drift too; it shows what was journaled here.
            assert session.state.plan_event["baselines"] == {"quick": {"seconds": 100.0, "samples": 1}}
            assert finished_steps(session.events)["quick"]["drift"]["flagged"]
        else:
            assert "baselines" not in session.state.plan_event
            assert "drift" not in finished_steps(session.events)["quick"]
