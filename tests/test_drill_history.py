"""Drill history, per-step baselines and drift, computed from the journals of real drills."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_drill_demo import journals, rbconsole
from tui import paths
from tui.drill import history
from tui.drill.drift import baselines, plan_baselines
from tui.drill.finish import REPORT_NAME, report_for
from tui.drill.format import against_target, sparkline
from tui.drill.report import render_report
from tui.drill.summary import DrillRun, StepTime, summarise
from tui.engine import events as ev
from tui.engine.drift import Baseline, drift, step_drift
from tui.engine.events import Event
from tui.runbook.durations import format_duration
from tui.runbook.loader import load_or_raise

RUNBOOK = """
schema = 1
id = "timed"
title = "a plan with one slow step"
service = "svc"

[vars]
nap = "0"

[[checks]]
id = "here"
kind = "local"
run = "true"

[plans.A]
title = "quick, then a nap"
target_minutes = 1
[[plans.A.steps]]
id = "quick"
kind = "local"
run = "true"
[[plans.A.steps]]
id = "nap"
kind = "local"
run = "sleep {{ nap }}"
[[plans.A.steps]]
id = "maybe"
kind = "local"
run = "true"
[[plans.A.verify]]
id = "fine"
kind = "local"
run = "true"

[checklists]
pre = [{ text = "checked", check = "here" }, "told people"]

[[drills]]
id = "practice"
title = "practice"
plan = "A"
"""


@pytest.fixture
def runbook(tmp_path: Path) -> Path:
    path = tmp_path / "timed.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    return path


def drill(runbook: Path, *args: str) -> str:
    done = rbconsole("drill", str(runbook), "--headless", "--yes", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def step_ends(events: list[Event]) -> dict[str, dict]:
    return {e.data["id"]: e.data for e in events if e.type == ev.STEP_FINISHED and e.data["phase"] == "step"}


def chosen(events: list[Event]) -> dict:
    return next(e.data for e in events if e.type == ev.PLAN_CHOSEN)


def test_two_drills_give_history_baselines_drift_and_trend(runbook: Path, tmp_path: Path) -> None:
    first = drill(runbook)
    assert "earlier drill" not in first and "drift:" not in first
    second = drill(runbook, "--var", "nap=1.5", "--record", str(tmp_path / "second.md"))

    steps = load_or_raise(runbook).plans["A"].steps
    events_one, events_two = journals()
    one, two = (summarise(events, None, steps) for events in (events_one, events_two))
    assert [s.id for s in one.steps] == ["quick", "nap", "maybe"]
    assert two.steps[1].seconds >= 1.5 > one.steps[1].seconds
    kept = history.load("timed", "A")
    assert [r.to_dict() for r in kept] == [one.to_dict(), two.to_dict()], "the history is what the journals say"

    # The second drill journaled the first one's times as its baselines, and the nap's drift.
    assert chosen(events_two)["baselines"]["nap"] == {"seconds": round(one.steps[1].seconds, 3), "samples": 1}
    nap = step_ends(events_two)["nap"]["drift"]
    assert nap["flagged"] and nap["text"].startswith("step 2 (nap): ") and "x its drill time" in nap["text"]
    assert two.steps[1].seconds == nap["seconds"], "the history keeps the time the engine judged"
    assert f"== DRILL == drift: {nap['text']}" in second.splitlines()
    assert "1 earlier drill(s)" in second

    report = (tmp_path / "second.md").read_text(encoding="utf-8").split("## DRILL report", 1)[1]
    assert f"- {nap['text']}" in report
    assert (
        f"| 2 | `nap` | local | {format_duration(nap['seconds'])} | {format_duration(nap['baseline'])} "
        f"| **{nap['ratio']:.1f}x** |" in report
    )
    assert "### Trend" in report and f"`{sparkline([one.seconds, two.seconds])}`" in report
    assert report.count("% | success |") == 2, "two rows in the trend table"
    assert "Completion: 1 of 2 items (50%)" in report and "- [ ] pre: told people" in report
    assert plan_baselines("timed", "A")["nap"].samples == 2
    latest = paths.sessions_dir() / two.session
    assert report_for(load_or_raise(runbook), events_two) == (latest / REPORT_NAME).read_text(encoding="utf-8")


def test_the_report_says_the_drift_the_journal_says_whatever_the_history_holds_now(runbook: Path) -> None:
    drill(runbook)
    second = drill(runbook, "--var", "nap=1.5")
    events_one, events_two = journals()
    journaled = step_ends(events_two)["nap"]["drift"]
    assert journaled["flagged"] and f"== DRILL == drift: {journaled['text']}" in second.splitlines()

    # The history changes after the drill (an earlier summary edited, another drill kept): a
    # report measured again from it would say another ratio than the one the drill showed.
    [earlier] = [r for r in history.load("timed", "A") if r.session == events_one[0].data["session"]]
    earlier.steps[1].seconds = 0.2
    history.save(earlier)
    history.save(DrillRun("zz-later", "timed", plan="A", started=events_two[0].ts + 1, result="success"))
    again = baselines([r for r in history.load("timed", "A") if r.session != events_two[0].data["session"]])
    assert again["nap"].seconds == 0.2
    measured_again = drift("nap", 2, journaled["seconds"], again)
    assert measured_again is not None and measured_again.text() != journaled["text"]

    report = report_for(load_or_raise(runbook), events_two)
    assert f"- {journaled['text']}" in report
    steps = report.split("### Steps", 1)[1].split("###", 1)[0]
    assert f"| {format_duration(journaled['baseline'])} | **{journaled['ratio']:.1f}x** |" in steps
    assert measured_again.text() not in report and format_duration(0.2) not in steps


def test_dry_runs_never_become_baselines(runbook: Path) -> None:
    drill(runbook, "--var", "nap=0")
    drill(runbook, "--dry-run")
    assert len(history.load("timed", "A")) == 1
    assert [r.dry_run for r in history.load("timed", "A", dry_run=True)] == [True]
    assert len(history.load("timed", "A", dry_run=None)) == 2
    drill(runbook, "--dry-run", "--var", "nap=1.5")
    [real, dry, slow_dry] = (summarise(events) for events in journals())
    assert real.steps[1].status == "ok" and dry.steps[1].status == "dry_run"
    assert "Dry run" in render_report(dry)
    # A dry run journals no baselines, so its report compares nothing, even with a dry run before it.
    assert slow_dry.baselines is None and all(s.drift is None for s in slow_dry.steps)
    report = report_for(load_or_raise(runbook), journals()[2])
    assert "Not compared: a dry run runs nothing to time." in report and "x its drill time" not in report


def test_failed_and_skipped_steps_are_reported_and_not_baselines(runbook: Path) -> None:
    done = rbconsole("drill", str(runbook), "--headless", "--yes", "--var", "nap=soon")  # sleep rejects it
    assert done.returncode == 1
    [events] = journals()
    run = summarise(events, None, load_or_raise(runbook).plans["A"].steps)
    assert run.result == "failed" and run.steps[1].status == "failed" and run.steps[2].attempts == 0
    report = render_report(run)
    assert "- failed: `nap`" in report and "- not run: `maybe`" in report
    assert "nap" not in baselines([run])


def test_damaged_history_files_cost_one_entry(runbook: Path) -> None:
    drill(runbook)
    [kept] = history.load("timed", "A")
    files = list(paths.history_dir().glob("timed/*.json"))
    assert len(files) == 1
    (files[0].parent / "zz-broken.json").write_text("{not json", encoding="utf-8")
    (files[0].parent / "zz-alien.json").write_text('{"unexpected": 1}', encoding="utf-8")
    assert [r.session for r in history.load("timed", "A")] == [kept.session]


def test_drift_bounds_and_words() -> None:
    base = {"checkout": Baseline("checkout", "Check out", 4.0, 3)}
    slow = drift("checkout", 4, 12.4, base)
    assert slow is not None and slow.text() == "step 4 (checkout): 3.1x its drill time (12s vs 4.0s)"
    fast = drift("checkout", 4, 1.0, base)
    assert fast is not None and fast.text() == "step 4 (checkout): 4.0x faster than its drill time (1.0s vs 4.0s)"
    assert drift("checkout", 4, 5.0, base) is None, "1.25x is within bounds"
    assert drift("tiny", 1, 0.3, {"tiny": Baseline("tiny", "", 0.1, 2)}) is None, "3x of 0.1s is noise"
    assert drift("unknown", 1, 99.0, base) is None
    instant = drift("ack", 2, 30.0, {"ack": Baseline("ack", "", 0.0, 2)})
    assert instant is not None and instant.text() == "step 2 (ack): 30s, against no measurable drill time"


def test_baselines_are_medians_of_passing_runs_only() -> None:
    def run(seconds: float, status: str = "ok") -> DrillRun:
        return DrillRun("s", "r", steps=[StepTime("a", status=status, seconds=seconds, attempts=1)])

    known = baselines([run(100.0), run(1.0), run(3.0), run(2.0), run(50.0, "failed"), run(4.0)], recent=5)
    assert known["a"].seconds == 2.5 and known["a"].samples == 4, "the oldest drops out, the failure never counts"


def test_time_against_target() -> None:
    assert against_target(83, 10) == "1m23s of 10m00s target (14%, within target)"
    assert against_target(750, 10) == "12m30s of 10m00s target (125%, over by 2m30s)"
    assert against_target(5, None) == "5.0s (no target time set)"
    assert against_target(0.6, 3) == "0.6s of 3m00s target (<1%, within target)"
    assert sparkline([3, 1, 2]) == "█▁▅" and sparkline([2, 2]) == "▁▁" and sparkline([]) == ""


def test_the_report_keeps_the_journals_words_for_no_measurable_time_and_drops_drift_after_a_failed_rerun() -> None:
    """The payloads are the engine's own (``step_drift``), as ``step_finished`` journals them."""
    known = {"ack": {"seconds": 0.0, "samples": 2}, "redo": {"seconds": 1.0, "samples": 2}}
    ack, redo = step_drift(known, "ack", 1, 30.0), step_drift(known, "redo", 2, 5.0)
    assert ack is not None and ack["ratio"] is None and ack["flagged"] and redo is not None and redo["flagged"]

    def step(seq: int, ts: float, kind: str, step_id: str, index: int, **data: object) -> Event:
        return Event(seq, ts, kind, {"id": step_id, "phase": "step", "index": index, **data})

    events = [
        Event(1, 100.0, ev.SESSION_STARTED, {"session": "s1", "runbook_id": "r", "mode": "drill"}),
        Event(2, 100.0, ev.PLAN_CHOSEN, {"plan": "A", "title": "t", "baselines": known}),
        step(3, 100.0, ev.STEP_STARTED, "ack", 0),
        step(4, 130.0, ev.STEP_FINISHED, "ack", 0, status="ok", duration=30.0, drift=ack),
        step(5, 130.0, ev.STEP_STARTED, "redo", 1),
        step(6, 135.0, ev.STEP_FINISHED, "redo", 1, status="ok", duration=5.0, drift=redo),
        step(7, 135.0, ev.STEP_STARTED, "redo", 1),  # run again by hand, and it failed
        step(8, 136.0, ev.STEP_FINISHED, "redo", 1, status="failed", duration=1.0, detail="exit 1"),
    ]
    run = summarise(events)
    assert [s.flagged for s in run.steps] == [True, False] and run.steps[1].drift is None
    report = render_report(run)
    assert "| 1 | `ack` | — | 30s | 0.0s | **∞x** | ok | 1 |" in report
    assert "| 2 | `redo` | — | 6.0s | 1.0s | — | failed | 2 |" in report
    drift_section = report.split("### Drift against earlier drills", 1)[1].split("###", 1)[0]
    assert "- step 1 (ack): 30s, against no measurable drill time" in drift_section
    assert "redo" not in drift_section
