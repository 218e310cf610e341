"""The end of a drill: fold its journal, write the report, keep the drill in the history.

What the drill took and how far each step drifted are the journal's figures (the session
journaled the baselines and each step's drift as it ran); the history gives the earlier drills
for the trend, and this drill's summary, those figures included, becomes the next baselines.

Shared by ``rbconsole drill --headless`` and the console (its record screen in drill mode), so both
say the same thing about the same drill.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.drill import history
from tui.drill.report import render_report
from tui.drill.summary import DrillRun, summarise
from tui.engine.events import Event
from tui.runbook.model import Runbook

REPORT_NAME = "drill-report.md"


@dataclass(frozen=True)
class FinishedDrill:
    run: DrillRun
    earlier: list[DrillRun]
    drifts: list[str]  # the journaled words of each step far off its drill time, in plan order
    report: str  # Markdown
    report_path: Path | None  # beside the session's journal


def summary_of(runbook: Runbook, events: Sequence[Event]) -> tuple[DrillRun, list[DrillRun]]:
    """A drill session's summary and the earlier drills it compares with (reads, writes nothing)."""
    start = events[0].data if events else {}
    scenario = runbook.drill(str(start.get("scenario") or ""))
    plan_id = next((str(e.data.get("plan")) for e in events if e.type == "plan_chosen"), str(start.get("plan") or ""))
    plan = runbook.plans.get(plan_id)
    target = scenario.target_minutes if scenario and scenario.plan == plan_id else None
    run = summarise(events, target, plan.steps if plan else ())
    earlier = [r for r in history.load(run.runbook_id, run.plan, dry_run=run.dry_run) if r.session != run.session]
    return run, earlier


def report_for(runbook: Runbook, events: Sequence[Event]) -> str:
    """The drill report of a session so far, e.g. to append to the record the console exports."""
    return render_report(*summary_of(runbook, events))


def finish(runbook: Runbook, events: Sequence[Event], session_dir: Path | None = None) -> FinishedDrill:
    """Summarise a finished drill session; keep it in the history; write its report beside the journal."""
    run, earlier = summary_of(runbook, events)
    report = render_report(run, earlier)
    path = None
    if session_dir is not None:
        try:
            (session_dir / REPORT_NAME).write_text(report, encoding="utf-8")
            path = session_dir / REPORT_NAME
        except OSError:
            path = None  # the report still goes to the caller and the record; the file is a convenience
    if run.session:
        history.save(run)
    drifts = [str((step.drift or {}).get("text")) for step in run.steps if step.flagged]
    return FinishedDrill(run, earlier, drifts, report, path)
