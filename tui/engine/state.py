"""A session's state, folded from its events alone (live, on resume, and for the record).

Folding is pure: the same events always give the same state, so the console, ``resume``
and the record can never disagree about what happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tui.engine import events as ev

# "not_sent" (a notification printed, not sent) is finished without being ok: a resume does
# not print it again, and the session's result says it was not all ok.
FINISHED_OK = frozenset({"ok", "skipped", "dry_run", "not_sent"})


@dataclass
class ActionState:
    id: str
    phase: str
    title: str = ""
    kind: str = ""
    index: int | None = None
    status: str = "pending"  # pending | running | unknown, or a finished status
    attempts: int = 0
    started: float | None = None
    last: dict[str, Any] = field(default_factory=dict)  # the last step/check_finished data
    history: list[dict[str, Any]] = field(default_factory=list)  # every finished attempt
    resolved: str | None = None  # the operator's answer about an unknown outcome
    interrupted: list[dict[str, Any]] = field(default_factory=list)  # attempts lost in a crash, as answered
    skip_reason: str = ""
    condition: dict[str, Any] = field(default_factory=dict)  # the `when` it last started under, and what it saw
    skip_by: str = ""  # "condition" | "optional" when the plan skipped it as written; "" for the operator

    @property
    def done(self) -> bool:
        return self.status in FINISHED_OK


@dataclass
class SessionState:
    meta: dict[str, Any] = field(default_factory=dict)
    started: float | None = None
    ended: float | None = None
    result: str | None = None
    end_reason: str = ""
    resumed: list[dict[str, Any]] = field(default_factory=list)
    triage: list[dict[str, Any]] = field(default_factory=list)
    reached: dict[str, Any] | None = None
    plan: str | None = None
    plan_event: dict[str, Any] = field(default_factory=dict)
    actions: dict[tuple[str, str], ActionState] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)
    overridden_by: dict[str, str] = field(default_factory=dict)
    ticks: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)
    confirmations: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    journal_failed: str = ""  # why the journal could not be written (known only to the process that ran it)
    journaled: int | None = None  # how many events reached the disk, when the journal failed
    escalations: list[dict[str, Any]] = field(default_factory=list)
    captured: dict[str, str] = field(default_factory=dict)
    monitors: list[dict[str, Any]] = field(default_factory=list)  # each monitors_read, in order
    last_seq: int = 0
    last_ts: float | None = None

    def action(self, phase: str, action_id: str) -> ActionState | None:
        return self.actions.get((phase, action_id))

    @property
    def operator(self) -> str:
        """Who acts now: the operator who last resumed the session, else the one who started it."""
        if self.resumed and self.resumed[-1].get("operator"):
            return str(self.resumed[-1]["operator"])
        return str(self.meta.get("operator") or "")

    def in_phase(self, phase: str) -> list[ActionState]:
        return [a for (p, _), a in self.actions.items() if p == phase]

    @property
    def ongoing(self) -> list[ActionState]:
        return [a for a in self.actions.values() if a.status in ("running", "unknown")]


def _action(state: SessionState, data: dict[str, Any]) -> ActionState:
    key = (str(data.get("phase", "step")), str(data.get("id", "")))
    action = state.actions.get(key)
    if action is None:
        action = state.actions[key] = ActionState(key[1], key[0])
    action.title = data.get("title", action.title) or action.title
    action.kind = data.get("kind", action.kind) or action.kind
    if data.get("index") is not None:
        action.index = data["index"]
    return action


def apply(state: SessionState, event: ev.Event) -> None:
    """Fold one journaled event into ``state``."""
    data = event.data
    state.last_seq = max(state.last_seq, event.seq)
    state.last_ts = event.ts
    kind = event.type
    if kind == ev.SESSION_STARTED:
        state.meta = dict(data)
        state.started = event.ts
    elif kind == ev.SESSION_RESUMED:
        state.resumed.append({**data, "ts": event.ts})
    elif kind == ev.TRIAGE_ANSWERED:
        state.triage.append({**data, "ts": event.ts})
    elif kind == ev.TRIAGE_REACHED:
        state.reached = dict(data)
    elif kind == ev.PLAN_CHOSEN:
        state.plan = data.get("plan")
        state.plan_event = {**data, "ts": event.ts}
    elif kind in (ev.CHECK_STARTED, ev.STEP_STARTED):
        action = _action(state, data)
        action.status = "running"
        action.attempts = max(action.attempts, int(data.get("attempt", 1)))
        action.started = event.ts
        action.resolved = None
        action.condition = dict(data.get("condition") or {})
    elif kind in (ev.CHECK_FINISHED, ev.STEP_FINISHED):
        action = _action(state, data)
        action.status = str(data.get("status", "error"))
        action.last = {**data, "ts": event.ts, "started": action.started}
        action.history.append(action.last)
        state.captured.update(data.get("captured") or {})
    elif kind == ev.CHECK_OVERRIDDEN:
        state.overrides[str(data.get("id"))] = str(data.get("reason", ""))
        state.overridden_by[str(data.get("id"))] = str(data.get("by", ""))
    elif kind == ev.STEP_SKIPPED:
        action = _action(state, data)
        action.status = "skipped"
        action.skip_reason = str(data.get("reason", ""))
        action.skip_by = str(data.get("by", ""))
        action.last = {**data, "status": "skipped", "ts": event.ts}
    elif kind == ev.STEP_RESOLVED:
        action = _action(state, data)
        answer = str(data.get("answer"))
        action.resolved = answer
        action.interrupted.append({"attempt": data.get("attempt"), "answer": answer, "by": data.get("by")})
        action.status = {"done": "ok", "failed": "failed", "skip": "skipped"}.get(answer, "unknown")
        if answer != "rerun":
            action.last = {**action.last, "status": action.status, "resolved": answer, "ts": event.ts}
    elif kind == ev.CONFIRMATION:
        state.confirmations.append({**data, "ts": event.ts})
    elif kind == ev.CHECKLIST_TICKED:
        state.ticks[(str(data.get("list")), int(data.get("index", 0)))] = {**data, "ts": event.ts}
    elif kind == ev.NOTE:
        state.notes.append({**data, "ts": event.ts})
    elif kind == ev.MONITORS_READ:
        state.monitors.append({**data, "ts": event.ts})
    elif kind == ev.SEVERITY_SET:
        state.meta["severity"] = data.get("level")
    elif kind == ev.ESCALATION_DUE:
        state.escalations.append({**data, "ts": event.ts})
    elif kind == ev.ESCALATION_ANSWERED:
        for due in state.escalations:
            if due.get("reason") == data.get("reason"):
                due["answer"], due["answered_by"] = data.get("answer"), data.get("by")
    elif kind == ev.WARNING:
        state.warnings.append(str(data.get("message", "")))
        if data.get("journal_failed") and not state.journal_failed:
            state.journal_failed = str(data.get("message", ""))
            state.journaled = event.seq - 1  # the warning carries the seq of the event that failed
    elif kind == ev.SESSION_ENDED:
        state.ended = event.ts
        state.result = data.get("result")
        state.end_reason = str(data.get("reason", ""))


def plan_window(state: SessionState) -> float | None:
    """The plan's own time: from its first step's first start to the end of its last
    verification (or of its last step, when none was verified); None before a step ran.
    Form filling, triage and pre-checks are the session's time, not the plan's."""
    steps = state.in_phase("step")
    starts = [h["started"] for a in steps for h in a.history if h.get("started") is not None]
    starts += [a.started for a in steps if a.started is not None]
    if not starts:
        return None
    ends = [h["ts"] for a in state.in_phase("verify") for h in a.history if h.get("ts") is not None]
    ends = ends or [h["ts"] for a in steps for h in a.history if h.get("ts") is not None]
    if not ends:
        return None
    return max(0.0, max(ends) - min(starts))


def fold(events: Iterable[ev.Event], *, live: bool = False) -> SessionState:
    """The state after ``events``. Unless ``live`` (this process is running the session), an
    action started but never finished is "unknown": the process died while it ran."""
    state = SessionState()
    for event in events:
        if not event.transient:
            apply(state, event)
    if not live:
        for action in state.actions.values():
            if action.status == "running":
                action.status = "unknown"
    return state
