"""The rollback record as data, built from a session's journaled events and nothing else.

Everything the record says (the runbook's checklists and record sections included) was put
into the journal when it happened, so a record exported after a crash, from another machine,
or after the runbook file changed still tells the truth about this session. Where each part
comes from:

- title, sections, retrospective, fields, checklists: ``session_started``'s
  :class:`~tui.engine.record_source.RecordSource` (journaled by
  :func:`~tui.engine.record_source.record_source`), fields' later parts from captured values;
- basic facts, reason, params, mode: the rest of ``session_started`` (:mod:`tui.engine.opening`);
- plan, baselines: ``plan_chosen``; steps, pre-checks, verification, setup, teardown, drift:
  ``step_*`` / ``check_*`` events folded by :mod:`tui.engine.state`; ticks, notes, monitors,
  confirmations, escalations, warnings, result: their own events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tui.engine import events as ev
from tui.engine.branching import alternatives, escalation_line
from tui.engine.record_source import journaled_source
from tui.engine.results import label, mode_label
from tui.engine.state import SessionState, fold, plan_window

IN_PROGRESS = "IN PROGRESS — not a final record"


def stamp(ts: float | None) -> str:
    """Local wall-clock time with its UTC offset, as an incident record states it."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def clock(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%H:%M:%S") if ts is not None else ""


def _action_rows(state: SessionState, phase: str, outline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    taken = alternatives(state) if phase == "step" else {}
    known = {item["id"] for item in outline}
    extra = [{"id": a.id, "title": a.title, "kind": a.kind} for a in state.in_phase(phase) if a.id not in known]
    for index, item in enumerate([*outline, *extra]):
        action = state.action(phase, item["id"])
        last = action.last if action else {}
        rows.append(
            {
                "index": index + 1,
                "id": item["id"],
                "title": item.get("title") or (action.title if action else ""),
                "kind": item.get("kind") or (action.kind if action else ""),
                "status": action.status if action else "not run",
                "attempts": action.attempts if action else 0,
                "started": last.get("started") or (action.started if action else None),
                "duration": last.get("duration"),
                "exit_status": last.get("exit_status"),
                "where": last.get("where") or "",
                "detail": (last.get("detail") or (action.skip_reason if action else ""))
                + (f" (the plan took its alternative: {taken[item['id']]})" if item["id"] in taken else ""),
                "severity": last.get("severity", item.get("severity", "")),
                "hosts": last.get("hosts") or {},
                "excerpt": last.get("excerpt") or {},
                "captured": last.get("captured") or {},
                "summary": last.get("summary", ""),
                "readings": last.get("readings") or [],
                "drift": last.get("drift") if action and action.status == "ok" else None,
                "resolved": action.resolved if action else None,
                "interrupted": list(action.interrupted) if action else [],
                "history": [
                    {k: h.get(k) for k in ("attempt", "status", "detail", "started", "duration", "exit_status")}
                    for h in (action.history if action else [])
                ],
            }
        )
    return rows


def _status(data: dict[str, Any]) -> str:
    status = str(data.get("status"))
    return ev.STATUS_WORDS.get(status, status)


ANSWERED = {"calling": "the operator is calling", "not_now": "not called yet", "seen": "seen (drill)"}


def _timeline(events: list[ev.Event]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for event in events:
        data = event.data
        text = {
            ev.SESSION_STARTED: lambda d: f"session started by {d.get('operator')} ({mode_label(d)})",
            ev.SESSION_RESUMED: lambda d: f"session resumed by {d.get('operator')} on {d.get('host')}",
            ev.TRIAGE_ANSWERED: lambda d: f"triage: {d.get('ask') or d.get('text')} → {d.get('label')}",
            ev.TRIAGE_REACHED: lambda d: (
                f"triage reached: {d.get('text')}" + (f" (plan {d['plan']})" if d.get("plan") else "")
            ),
            ev.PLAN_CHOSEN: lambda d: (
                f"plan {d.get('plan')} chosen: {d.get('title')}" + (f" — {d['reason']}" if d.get("reason") else "")
            ),
            ev.STEP_STARTED: lambda d: f"{d.get('phase')} {d.get('id')} started" + _attempt(d) + _condition(d),
            ev.STEP_FINISHED: lambda d: f"{d.get('phase')} {d.get('id')} {_status(d)}" + _attempt(d),
            ev.STEP_SKIPPED: lambda d: (
                f"{d.get('phase') or 'step'} {d.get('id')} skipped" + (f": {d['reason']}" if d.get("reason") else "")
            ),
            ev.STEP_RESOLVED: lambda d: (
                f"step {d.get('id')} (outcome unknown) answered {d.get('answer')} by {d.get('by')}"
            ),
            ev.CHECK_FINISHED: lambda d: (
                f"{'pre-check' if d.get('phase') == 'pre' else 'verification'} {d.get('id')} {_status(d)}"
            ),
            ev.CHECK_OVERRIDDEN: lambda d: (
                f"pre-check {d.get('id')} overridden"
                + (f" by {d['by']}" if d.get("by") else "")
                + f": {d.get('reason')}"
            ),
            ev.CONFIRMATION: lambda d: (
                f"{d.get('question')} {d.get('id')}: {d.get('answer') or 'no answer'} ({d.get('by')})"
            ),
            ev.CHECKLIST_TICKED: lambda d: (
                f"{'ticked' if d.get('ticked') else 'unticked'} [{d.get('list')}] {d.get('text')} ({d.get('by')})"
            ),
            ev.NOTE: lambda d: f"note: {d.get('text')}",
            ev.MONITORS_READ: lambda d: (
                f"monitors read ({d.get('at')}): "
                + (", ".join(r["id"] for r in d.get("readings") or [] if r.get("state") == "fires") or "none fire")
                + (f"; suggest {d['suggested']}" if d.get("suggested") else "")
            ),
            ev.SEVERITY_SET: lambda d: (
                f"severity set to {d.get('level')} by {d.get('by')}"
                + (f" (was {d['previous']})" if d.get("previous") else "")
                + (f" (monitors suggested {d['suggested']})" if d.get("suggested") else "")
            ),
            ev.ESCALATION_DUE: lambda d: (
                f"{'drill: escalation would be due' if d.get('drill') else 'escalation due'} ({d.get('detail')}): call "
                + escalation_line(d)
            ),
            ev.ESCALATION_ANSWERED: lambda d: (
                f"escalation ({d.get('reason')}): {ANSWERED.get(str(d.get('answer')), d.get('answer'))} ({d.get('by')})"
            ),
            ev.WARNING: lambda d: f"warning: {d.get('message')}",
            ev.SESSION_ENDED: lambda d: (
                f"session ended: {label(str(d.get('result')))}" + (f" — {d['reason']}" if d.get("reason") else "")
            ),
        }.get(event.type)
        if text is not None:
            lines.append({"ts": event.ts, "time": stamp(event.ts), "event": event.type, "text": text(data)})
    return lines


RUNNING_VERSION = "running_version"


def _running_version(state: SessionState) -> dict[str, str] | None:
    """The version a step or verification of the plan captured as ``running_version`` (the
    last one wins: what was seen running at the end), with who captured it."""
    found = None
    for phase in ("step", "verify"):
        for action in state.in_phase(phase):
            value = (action.last.get("captured") or {}).get(RUNNING_VERSION)
            if value and action.status == "ok":
                found = {"value": str(value), "by": action.id, "phase": phase}
    return found


def _condition(data: dict[str, Any]) -> str:
    seen = data.get("condition") or {}
    if not seen.get("when"):
        return ""
    return f" (condition true: {seen['when']}" + (f"; {seen['values']})" if seen.get("values") else ")")


def _fields(fields: dict[str, list[list[str]]], captured: dict[str, str]) -> list[dict[str, Any]]:
    """``[record.fields]`` filled from the run: the values known at the start were journaled
    with the session's start; captured ones are filled here from the journal. A value nothing
    filled, or left empty, is marked unknown."""
    rows = []
    for field_label, parts in fields.items():
        if not isinstance(parts, list):
            continue  # not a field this code journaled
        missing = [name for kind, name in parts if kind == "later" and name not in captured]
        value = "".join(captured.get(text, "") if kind == "later" else text for kind, text in parts)
        rows.append({"label": field_label, "value": "" if missing else value.strip(), "missing": missing})
    return rows


def _attempt(data: dict[str, Any]) -> str:
    return f" (attempt {data['attempt']})" if int(data.get("attempt") or 1) > 1 else ""


def build(events: Iterable[ev.Event], *, live: bool = False) -> dict[str, Any]:
    """The record of the session the ``events`` describe, as JSON-ready data."""
    journaled = [e for e in events if not e.transient]
    state = fold(journaled, live=live)
    meta = state.meta
    plan = state.plan_event
    source = journaled_source(meta)
    record_spec, checklists = source["record"], source["checklists"]
    duration = (state.ended - state.started) if state.ended and state.started else None
    lists: dict[str, list[dict[str, Any]]] = {}
    for name, items in checklists.items():
        lists[name] = []
        for index, item in enumerate(items):
            text = item if isinstance(item, str) else item.get("text", "")
            tick = state.ticks.get((name, index), {})
            lists[name].append(
                {"text": text, "ticked": bool(tick.get("ticked")), "by": tick.get("by", ""), "ts": tick.get("ts")}
            )
    yes_answers = [c for c in state.confirmations if c.get("by") == "--yes"]
    steps = _action_rows(state, "step", plan.get("steps") or [])
    result = state.result or ("running" if live else "interrupted")
    return {
        # First, so no reader of an export taken mid-session mistakes it for the final record.
        "final": state.result is not None,
        "notice": "" if state.result is not None else IN_PROGRESS,
        "title": record_spec.get("title") or "",
        "session": meta.get("session", ""),
        "basic": {
            "runbook": meta.get("runbook_title", ""),
            "runbook_id": meta.get("runbook_id", ""),
            "runbook_path": meta.get("runbook_path", ""),
            "service": meta.get("service", ""),
            "version_from": meta.get("current_version", ""),
            "version_to": plan.get("target_version") or meta.get("target_version", ""),
            "version_of_plan": bool(plan.get("target_version")),
            "version_running": _running_version(state),
            "plan": state.plan,
            "plan_title": plan.get("title", ""),
            "recommended_plan": plan.get("recommended"),
            "plan_reason": plan.get("reason", ""),
            "target_minutes": plan.get("target_minutes"),
            "operator": meta.get("operator", ""),
            "started": stamp(state.started),
            "ended": stamp(state.ended),
            "duration": duration,
            "plan_seconds": plan_window(state),
            "mode": meta.get("mode", "live"),
            "mode_label": mode_label(meta),
            "scenario": meta.get("scenario"),
            "profile": meta.get("profile"),
            "dry_run": bool(meta.get("dry_run")),
            "yes": bool(meta.get("yes")) or any(r.get("yes") for r in state.resumed),
            "yes_answers": len(yes_answers),
            "severity": meta.get("severity"),
            "params": meta.get("params") or {},
            "resumed": [
                {"time": stamp(r.get("ts")), "operator": r.get("operator"), "host": r.get("host")}
                for r in state.resumed
            ],
        },
        "reason": meta.get("reason", ""),
        "triage": [
            {"node": t.get("node"), "question": t.get("ask") or t.get("text"), "answer": t.get("label")}
            for t in state.triage
        ],
        "triage_result": state.reached,
        "prechecks": _action_rows(state, "pre", meta.get("checks") or []),
        "overrides": dict(state.overrides),
        "overridden_by": dict(state.overridden_by),
        "steps": steps,
        "drift": [{"index": r["index"], "id": r["id"], "title": r["title"], **r["drift"]} for r in steps if r["drift"]],
        "drift_baselines": len(plan.get("baselines") or {}),
        "setup": _action_rows(state, "setup", []),
        "teardown": _action_rows(state, "teardown", []),
        "verification": _action_rows(state, "verify", plan.get("verify") or []),
        "confirmations": [
            {k: c.get(k) for k in ("id", "question", "answer", "by")} | {"time": stamp(c.get("ts"))}
            for c in state.confirmations
        ],
        "checklists": lists,
        "monitors": [
            {
                "at": m.get("at"),
                "time": stamp(m.get("ts")),
                "suggested": m.get("suggested"),
                "readings": m.get("readings"),
            }
            for m in state.monitors
        ],
        "result": result,
        "result_label": label(result),
        "end_reason": state.end_reason,
        "timeline": _timeline(journaled),
        "notes": [{"time": stamp(n.get("ts")), "by": n.get("by", ""), "text": n.get("text", "")} for n in state.notes],
        "warnings": list(state.warnings),
        "journal_failed": state.journal_failed,
        "journaled": state.journaled,
        "sections": record_spec.get("sections") or [],
        # A dry run captured nothing: its stand-ins are not values a record may state.
        "fields": _fields(record_spec.get("fields") or {}, {} if meta.get("dry_run") else state.captured),
        "retrospective": record_spec.get("retrospective") or [],
        "events": len(journaled),
    }
