"""What a ``when`` condition sees in a session, and which failures a plan's alternative covered.

Pure functions over the folded state and the session's values: the session asks them just
before a step would run, the result uses them to tell "the script failed and the by-hand
way did it" from "the plan failed".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tui.engine.state import SessionState
from tui.runbook.conditions import ConditionError, Logic, Lookup, Name, Node, Scalar, parse
from tui.runbook.model import Plan, Runbook
from tui.runbook.placeholders import Value

FAILED = frozenset({"failed", "timeout", "error", "aborted", "declined"})
OPTIONAL_OPTIONS = ("run", "skip")


def lookup(state: SessionState, scope: Mapping[str, Value]) -> Lookup:
    """Values for a condition's names; None when a name has no value (yet)."""

    def find(name: Name) -> Scalar | None:
        if name.namespace == "steps":
            return _result(state, ("step",), name)
        if name.namespace == "checks":
            return _result(state, ("verify", "pre"), name)
        if name.namespace == "captured":
            return state.captured.get(name.ident)
        value = scope.get(name.ident)
        return None if value is None else value.text

    return find


def secret(scope: Mapping[str, Value]) -> Callable[[Name], bool]:
    """Whether a name's value is (or was built from) a secret: shown masked in what a condition saw."""

    def masked(name: Name) -> bool:
        value = scope.get(name.ident)
        return name.namespace in ("params", "vars", "captured") and value is not None and value.secret

    return masked


def _result(state: SessionState, phases: tuple[str, ...], name: Name) -> bool | None:
    # A check id may be both a pre-check and a verification: the latest result is what is known.
    action = next((a for p in phases if (a := state.action(p, name.ident)) is not None), None)
    if action is None or action.status in ("pending", "running", "unknown", "dry_run"):
        return None
    if name.prop == "ok":
        return action.status == "ok"
    if name.prop == "skipped":
        return action.status == "skipped"
    return action.status in FAILED


def has_alternative(plan: Plan, step_id: str) -> bool:
    """Whether a later step of ``plan`` is written for ``step_id``'s failure (and the step goes on to it)."""
    ids = [s.id for s in plan.steps]
    if step_id not in ids or plan.steps[ids.index(step_id)].on_failure != "continue":
        return False
    for step in plan.steps[ids.index(step_id) + 1 :]:
        try:
            names = _asserted(parse(step.when).tree) if step.when else []
        except ConditionError:
            continue
        if any(n.namespace == "steps" and n.prop == "failed" and n.ident == step_id for n in names):
            return True
    return False


def due_contacts(runbook: Runbook, reason: str) -> list[dict[str, object]]:
    """The contacts to call when escalation for ``reason`` is due, first to call first."""
    due = [c for c in runbook.contacts if reason in c.escalate]
    due.sort(key=lambda c: c.order if c.order is not None else 1_000_000)  # stable: file order otherwise
    keys = ("role", "name", "phone", "chat", "email", "duty", "order")
    return [{key: getattr(c, key) for key in keys} for c in due]


def contact_line(contact: Mapping[str, Any]) -> str:
    who = " ".join(str(contact.get(k)) for k in ("role", "name") if contact.get(k))
    how = ", ".join(str(contact.get(k)) for k in ("phone", "chat", "email") if contact.get(k))
    return f"{who} ({how})" if how else who


def escalation_line(data: Mapping[str, Any]) -> str:
    return "; then ".join(contact_line(c) for c in data.get("contacts") or [])


def alternatives(state: SessionState) -> dict[str, str]:
    """Failed step id -> the step written for its failure (``when = "steps.X.failed"``) that
    then ran and passed: the plan took its alternative, it did not fail. Read from the journal
    (the condition each step started under), so the session and its record agree."""
    taken: dict[str, str] = {}
    for action in state.in_phase("step"):
        when = (action.condition or {}).get("when")
        if not when or action.status != "ok":
            continue
        try:
            names = _asserted(parse(str(when)).tree)
        except ConditionError:
            continue
        for name in names:
            failed = state.action("step", name.ident)
            if name.namespace == "steps" and name.prop == "failed" and failed and failed.status in FAILED:
                taken.setdefault(name.ident, action.id)
    return taken


def _asserted(node: Node) -> list[Name]:
    """The names a condition needs true to hold (not the ones under a ``not`` or compared)."""
    if isinstance(node, Name):
        return [node]
    if isinstance(node, Logic):
        return [name for part in node.parts for name in _asserted(part)]
    return []
