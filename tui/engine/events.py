"""What a session emits: one typed event per thing that happened, in journal order.

Every event except ``output`` is appended to the session journal (and fsynced) before any
subscriber sees it, so whatever a screen shows or a record says is a view of the journal.
``output`` events carry step output chunks; they go to the output file and to subscribers
only (10M lines must not become 10M journal lines) and the step's ``step_finished`` event
carries a bounded, redacted tail of them.

Event ``data`` payloads (all JSON values; secrets already redacted):

- ``session_started``: session, runbook_id, runbook_path, runbook_title, runbook_sha256, service,
  current_version, target_version, operator, reason, severity, params (secret ones masked),
  given (the --var values), profile, mode ("live" | "drill"), dry_run, yes, scenario, plan (may
  be null), user, host, pid, and what the record needs from the runbook: record (title,
  sections, retrospective), checklists, checks (id, title, kind, severity)
- ``session_resumed``: operator, user, host, pid, yes, repaired (a torn journal line was cut), warning
- ``triage_answered``: node, text, ask, option (index), label, next
- ``triage_reached``: node, text, plan (recommended plan or null), action (e.g. "observe" or null)
- ``plan_chosen``: plan, title, target_minutes, target_version (the plan's own, or null), steps and verify (id, title, kind, confirm),
  recommended, reason (why the recommendation was overridden); in a live, not dry, session
  baselines: step id -> {seconds, samples} from the last drills of the plan (may be empty)
- ``check_started``: id, title, kind, phase, attempt, describe (resolved command/request lines)
- ``check_finished``: id, title, kind, phase, attempt, status, detail, exit_status (a command's exit
  status, or the HTTP status an http action got), where (an http action's URL, a sql action's
  host:port/db as libpq resolved it; "" for others), duration,
  severity ("blocking" | "warning"), summary, hosts, captured, excerpt, output
- ``check_overridden``: id, phase, reason, by (the operator who overrode it)
- ``step_started``: id, title, kind, phase, attempt, index, describe, confirm, targets
- ``step_finished``: like ``check_finished`` plus index; status "dry_run" in a dry run; when the
  step passed and has a baseline, drift: seconds (all attempts), baseline, samples, ratio,
  flagged (far enough off to be news), text ("step 4 (checkout): 3.1x its drill time (12s vs 4.0s)")
- ``step_skipped``: id, phase, index, reason
- ``step_resolved``: id, phase, attempt, answer ("rerun" | "done" | "failed" | "skip"), by — the
  operator's answer about a step whose outcome was unknown after a crash
- ``confirmation``: id, phase, question ("destructive" | "manual" | "on_failure" | "unknown"),
  answer, by ("operator" | "--yes" | "no-tty")
- ``checklist_ticked``: list ("pre" | "during" | "post" | "followup"), index, text, ticked, by
  ("operator" | "check:ID")
- ``escalation_due``: reason ("failed" | "overdue"), detail ("step restore failed"), contacts (in
  escalation order: role, name, phone, chat, email, duty, order), drill (a rehearsal: whom it would
  call) — journaled once per reason
- ``escalation_answered``: reason, answer ("calling" | "not_now" | "seen" in a drill), by — what the
  operator said when the console showed whom to call
- ``note``: text, by
- ``warning``: message (e.g. a journal write that failed, a secret that could not be read)
- ``monitors_read``: at ("start" | "end"), readings (id, title, severity, condition, state
  "fires" | "quiet" | "no_data" | "error", values [{series, value}], detail), suggested (a level or null)
- ``severity_set``: level, previous, suggested (what the monitors suggested then), by
- ``session_ended``: result ("success" | "partial" | "failed" | "aborted" | "dry_run"), reason,
  duration (the whole session), plan_seconds (first step start to last verification end, or null)
- ``output`` (transient): id, phase, attempt, host, stream ("stdout" | "stderr" | "info"), text
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

SESSION_STARTED: Final = "session_started"
SESSION_RESUMED: Final = "session_resumed"
TRIAGE_ANSWERED: Final = "triage_answered"
TRIAGE_REACHED: Final = "triage_reached"
PLAN_CHOSEN: Final = "plan_chosen"
CHECK_STARTED: Final = "check_started"
CHECK_FINISHED: Final = "check_finished"
CHECK_OVERRIDDEN: Final = "check_overridden"
STEP_STARTED: Final = "step_started"
STEP_FINISHED: Final = "step_finished"
STEP_SKIPPED: Final = "step_skipped"
STEP_RESOLVED: Final = "step_resolved"
CONFIRMATION: Final = "confirmation"
CHECKLIST_TICKED: Final = "checklist_ticked"
NOTE: Final = "note"
ESCALATION_DUE: Final = "escalation_due"
ESCALATION_ANSWERED: Final = "escalation_answered"
ESCALATION_ANSWERS: Final = ("calling", "not_now", "seen")
WARNING: Final = "warning"
SESSION_ENDED: Final = "session_ended"
MONITORS_READ: Final = "monitors_read"
SEVERITY_SET: Final = "severity_set"
OUTPUT: Final = "output"

JOURNALED: Final = frozenset(
    {
        SESSION_STARTED,
        SESSION_RESUMED,
        TRIAGE_ANSWERED,
        TRIAGE_REACHED,
        PLAN_CHOSEN,
        CHECK_STARTED,
        CHECK_FINISHED,
        CHECK_OVERRIDDEN,
        STEP_STARTED,
        STEP_FINISHED,
        STEP_SKIPPED,
        STEP_RESOLVED,
        CONFIRMATION,
        CHECKLIST_TICKED,
        NOTE,
        MONITORS_READ,
        SEVERITY_SET,
        ESCALATION_DUE,
        ESCALATION_ANSWERED,
        WARNING,
        SESSION_ENDED,
    }
)

# How an action's status reads where a bare word would mislead (printer, record, screens).
STATUS_WORDS: Final = {"not_sent": "printed, not sent", "no_data": "no data"}


@dataclass(frozen=True)
class Event:
    """One thing that happened. ``seq`` counts journaled events from 1; an ``output`` event
    carries the seq of the last journaled event before it."""

    seq: int
    ts: float  # unix time, seconds
    type: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def transient(self) -> bool:
        return self.type == OUTPUT

    def to_json(self) -> str:
        return json.dumps(
            {"seq": self.seq, "ts": round(self.ts, 6), "type": self.type, "data": self.data},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str) -> Event:
        raw = json.loads(line)
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            raise ValueError("not an event object")
        data = raw.get("data")
        return cls(int(raw["seq"]), float(raw["ts"]), raw["type"], data if isinstance(data, dict) else {})
