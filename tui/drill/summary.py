"""What one drill was, folded from its journal events alone: times, outcomes, checks, checklist ticks.

The summary is plain data (JSON round-trips through :meth:`DrillRun.to_dict`), so the drill
history can keep it beside the journal it came from and later drills can compare against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tui.engine import events as ev
from tui.engine.events import Event
from tui.runbook.model import Step

OK_STATUSES = frozenset({"ok", "dry_run"})


@dataclass
class Outcome:
    """What the journal says of one action (a step or a check) at its last end."""

    id: str
    title: str = ""
    phase: str = ""
    status: str = ""
    detail: str = ""

    def take(self, data: dict[str, Any]) -> None:
        """Its ``step_finished`` / ``check_finished`` payload, over what an earlier event said."""
        self.title = str(data.get("title") or self.title)
        self.phase = str(data.get("phase") or self.phase)
        self.status = str(data.get("status") or "unknown")
        self.detail = str(data.get("detail") or "")


@dataclass
class StepTime(Outcome):
    phase: str = "step"
    status: str = "not run"
    kind: str = ""
    index: int | None = None
    seconds: float = 0.0  # wall time over every attempt, confirmations included
    attempts: int = 0
    skip_reason: str = ""
    # The engine's word on this time against the drill baseline, as journaled with the step's
    # end (``tui.engine.drift.step_drift``): None when it had no baseline or did not pass.
    drift: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES or self.status == "skipped"

    @property
    def flagged(self) -> bool:
        return bool(self.drift and self.drift.get("flagged"))


@dataclass
class CheckResult(Outcome):
    phase: str = "pre"
    severity: str = "blocking"
    overridden: str = ""  # the reason given for going on despite it


@dataclass
class DrillRun:
    session: str
    runbook_id: str
    runbook_title: str = ""
    plan: str = ""
    plan_title: str = ""
    scenario: str | None = None
    profile: str | None = None
    operator: str = ""
    mode: str = "drill"
    dry_run: bool = False
    yes: bool = False
    started: float = 0.0  # unix time of session start
    seconds: float = 0.0  # the timed part: pre-checks, plan steps and verification
    session_seconds: float = 0.0  # everything, setup and teardown included
    target_minutes: float | None = None
    result: str = "unfinished"
    steps: list[StepTime] = field(default_factory=list)
    setup: list[StepTime] = field(default_factory=list)
    teardown: list[StepTime] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    verify: list[CheckResult] = field(default_factory=list)
    checklist_items: dict[str, list[str]] = field(default_factory=dict)  # as the session started with them
    checklist_ticked: dict[str, list[int]] = field(default_factory=dict)
    # Where the drill acted (fenced runs): {"fenced": n, "shared": [lines], "production": [lines]}.
    targets: dict[str, Any] = field(default_factory=dict)
    # Step id -> {seconds, samples}: the baselines the session journaled with its plan choice,
    # what every drift figure of this drill was measured against. None: none were journaled
    # (a dry run compares nothing, or no plan was chosen).
    baselines: dict[str, dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrillRun:
        raw = dict(data)
        for part in ("steps", "setup", "teardown"):
            raw[part] = [StepTime(**s) for s in raw.get(part, [])]
        for part in ("checks", "verify"):
            raw[part] = [CheckResult(**c) for c in raw.get(part, [])]
        return cls(**raw)


_TIMED_PHASES = frozenset({"pre", "step", "verify"})


def summarise(
    events: Iterable[Event], target_minutes: float | None = None, plan_steps: Sequence[Step] = ()
) -> DrillRun:
    """Fold a session's journaled events into a :class:`DrillRun`.

    ``target_minutes`` (a drill scenario's own target) wins over the chosen plan's.
    ``plan_steps`` (the plan as the runbook has it) adds the steps that never started.
    """
    run = DrillRun(session="", runbook_id="")
    planned = {s.id: StepTime(id=s.id, title=s.title, kind=s.kind, index=i) for i, s in enumerate(plan_steps)}
    by_phase: dict[str, dict[str, StepTime]] = {"setup": {}, "step": planned, "teardown": {}}
    checks: dict[str, dict[str, CheckResult]] = {"pre": {}, "verify": {}}
    open_attempts: dict[tuple[str, str], float] = {}
    ticks: dict[tuple[str, int], bool] = {}
    first = last = timed_from = timed_to = None
    for event in events:
        data = event.data
        first = event.ts if first is None else first
        last = event.ts
        phase = str(data.get("phase", ""))
        if event.type == ev.SESSION_STARTED:
            _start(run, data, event.ts)
        elif event.type == ev.PLAN_CHOSEN:
            run.plan = str(data.get("plan") or run.plan)
            run.plan_title = str(data.get("title") or "")
            run.targets = dict(data.get("targets") or run.targets)
            if isinstance(data.get("baselines"), dict):
                run.baselines = dict(data["baselines"])
            if run.target_minutes is None and data.get("target_minutes") is not None:
                run.target_minutes = float(data["target_minutes"])
        elif event.type in (ev.STEP_STARTED, ev.CHECK_STARTED):
            if phase in _TIMED_PHASES and timed_from is None:
                timed_from = event.ts
            if phase in by_phase:
                step = by_phase[phase].setdefault(str(data.get("id")), StepTime(id=str(data.get("id"))))
                step.title = str(data.get("title") or step.title)
                step.kind = str(data.get("kind") or step.kind)
                step.phase = phase
                step.index = data.get("index", step.index)
                open_attempts[(phase, step.id)] = event.ts
        elif event.type in (ev.STEP_FINISHED, ev.CHECK_FINISHED):
            if phase in _TIMED_PHASES:
                timed_to = event.ts
            if phase in by_phase:
                _finish_step(by_phase[phase], data, event.ts, open_attempts.pop((phase, str(data.get("id"))), None))
            elif phase in checks:
                _finish_check(checks[phase], data)
        elif event.type == ev.STEP_SKIPPED and phase in by_phase:
            step = by_phase[phase].setdefault(str(data.get("id")), StepTime(id=str(data.get("id")), phase=phase))
            step.status, step.skip_reason = "skipped", str(data.get("reason") or "")
            step.index = data.get("index", step.index)
        elif event.type == ev.CHECK_OVERRIDDEN and phase in checks:
            check = checks[phase].setdefault(str(data.get("id")), CheckResult(id=str(data.get("id")), phase=phase))
            check.overridden = str(data.get("reason") or "overridden")
        elif event.type == ev.CHECKLIST_TICKED:
            ticks[(str(data.get("list")), int(data.get("index", -1)))] = bool(data.get("ticked", True))
        elif event.type == ev.SESSION_ENDED:
            run.result = str(data.get("result") or run.result)
    if target_minutes is not None:
        run.target_minutes = target_minutes
    if timed_from is not None and timed_to is not None:
        run.seconds = max(0.0, timed_to - timed_from)
    if first is not None and last is not None:
        run.session_seconds = max(0.0, last - first)
    run.steps = _ordered(by_phase["step"])
    run.setup = _ordered(by_phase["setup"])
    run.teardown = _ordered(by_phase["teardown"])
    run.checks = list(checks["pre"].values())
    run.verify = list(checks["verify"].values())
    for (name, index), ticked in sorted(ticks.items()):
        if ticked:
            run.checklist_ticked.setdefault(name, []).append(index)
    return run


def _start(run: DrillRun, data: dict[str, Any], ts: float) -> None:
    run.session = str(data.get("session") or "")
    run.runbook_id = str(data.get("runbook_id") or "")
    run.runbook_title = str(data.get("runbook_title") or "")
    run.scenario = data.get("scenario")
    run.profile = data.get("profile")
    run.operator = str(data.get("operator") or "")
    run.mode = str(data.get("mode") or "live")
    run.dry_run = bool(data.get("dry_run"))
    run.yes = bool(data.get("yes"))
    run.plan = str(data.get("plan") or "")
    run.started = ts
    lists = data.get("checklists")
    for name, items in (lists if isinstance(lists, dict) else {}).items():
        if isinstance(items, list):
            run.checklist_items[str(name)] = [str(i.get("text", "")) if isinstance(i, dict) else str(i) for i in items]


def _finish_step(steps: dict[str, StepTime], data: dict[str, Any], ts: float, started: float | None) -> None:
    step = steps.setdefault(str(data.get("id")), StepTime(id=str(data.get("id"))))
    step.take(data)
    step.kind = str(data.get("kind") or step.kind)
    step.index = data.get("index", step.index)
    step.attempts += 1
    duration = float(data.get("duration") or 0.0)
    step.seconds += max(duration, ts - started) if started is not None else duration
    found = data.get("drift")
    step.drift = dict(found) if isinstance(found, dict) and step.status in OK_STATUSES else None
    if step.drift is not None and isinstance(step.drift.get("seconds"), int | float):
        # The time the engine measured and judged is the step's time: the report, the history
        # (the next drill's baseline) and the record then carry the one figure.
        step.seconds = float(step.drift["seconds"])


def _finish_check(checks: dict[str, CheckResult], data: dict[str, Any]) -> None:
    check = checks.setdefault(str(data.get("id")), CheckResult(id=str(data.get("id"))))
    check.take(data)
    check.severity = str(data.get("severity") or check.severity)


def _ordered(steps: dict[str, StepTime]) -> list[StepTime]:
    # Journal order is run order, except that a retried or skipped step keeps its plan position.
    return sorted(steps.values(), key=lambda s: (s.index is None, s.index if s.index is not None else 0))
