"""Load-time checks of the branching words: ``when`` conditions, ``optional`` steps, escalation
contacts and ``[record.fields]`` (runs on the raw TOML data, like :mod:`tui.runbook.semantics`).

A condition may only name what exists by the time it is evaluated: a plan step names the
plan's earlier steps, the pre-checks and values captured before it; a verification may also
name every step of its plan and the verifications before it.
"""

from __future__ import annotations

from typing import Any

from tui.runbook.conditions import ConditionError, Name, parse
from tui.runbook.placeholders import PLACEHOLDER
from tui.runbook.positions import Path
from tui.runbook.semantics import Report, ReportInValue


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _ids(items: list[Any]) -> list[str]:
    return [i for item in items if isinstance(i := _dict(item).get("id"), str)]


def _captures(items: list[Any]) -> set[str]:
    return {name for item in items for name in _dict(_dict(item).get("capture"))}


class _Known:
    """What a condition at one place in a plan may name."""

    def __init__(self, data: dict[str, Any], steps: list[str], checks: list[str], captured: set[str]) -> None:
        params = _dict(data.get("params"))
        self.params = {n for n, p in params.items() if not _dict(p).get("secret")}
        self.secret_params = set(params) - self.params
        self.vars = set(_dict(data.get("vars")))
        for profile in _dict(data.get("profiles")).values():
            self.vars |= set(_dict(_dict(profile).get("vars")))
        self.steps, self.checks, self.captured = steps, checks, captured

    def problem(self, name: Name) -> str | None:
        space, ident = name.namespace, name.ident
        if space == "steps" and ident not in self.steps:
            return f"{name.text}: no step {ident!r} runs before this one (known: {_few(self.steps)})"
        if space == "checks" and ident not in self.checks:
            return f"{name.text}: no check {ident!r} runs before this one (known: {_few(self.checks)})"
        if space == "captured" and ident not in self.captured:
            return f"{name.text}: nothing captures {ident!r} before this one (known: {_few(sorted(self.captured))})"
        if space == "params" and ident in self.secret_params:
            return f"{name.text}: a secret param cannot be in a condition (its value would be journaled)"
        if space == "params" and ident not in self.params:
            return f"{name.text}: no param {ident!r} (known: {_few(sorted(self.params))})"
        if space == "vars" and ident not in self.vars:
            return f"{name.text}: no var {ident!r} (known: {_few(sorted(self.vars))})"
        return None


def _few(names: list[str]) -> str:
    return ", ".join(names[:8]) + (f", … ({len(names)} in all)" if len(names) > 8 else "") if names else "none"


def _check_when(path: Path, action: dict[str, Any], known: _Known, report_in_value: ReportInValue) -> None:
    text = action.get("when")
    if not isinstance(text, str):
        return  # a type error, reported by the model
    where = (*path, "when")
    try:
        condition = parse(text)
    except ConditionError as exc:
        report_in_value(where, exc.pos, f"when: {exc}")
        return
    for name in condition.names:
        problem = known.problem(name)
        if problem:
            report_in_value(where, name.pos, f"when: {problem}")


def check_branching(data: dict[str, Any], report: Report, report_in_value: ReportInValue) -> None:
    pre = _list(data.get("checks"))
    pre_ids = _ids(pre)
    for i, check in enumerate(pre):
        _not_here(("checks", i), _dict(check), "a pre-check", report)
    for d, drill in enumerate(_list(data.get("drills"))):
        for part in ("setup", "teardown"):
            for i, step in enumerate(_list(_dict(drill).get(part))):
                _not_here(("drills", d, part, i), _dict(step), f"a drill {part} step", report)
    for plan_id, plan in _dict(data.get("plans")).items():
        steps = _list(_dict(plan).get("steps"))
        verify = _list(_dict(plan).get("verify"))
        for i, step in enumerate(steps):
            known = _Known(data, _ids(steps[:i]), pre_ids, _captures(pre) | _captures(steps[:i]))
            _check_when(("plans", plan_id, "steps", i), _dict(step), known, report_in_value)
        for i, check in enumerate(verify):
            known = _Known(data, _ids(steps), pre_ids + _ids(verify[:i]), _captures(pre + steps + verify[:i]))
            _check_when(("plans", plan_id, "verify", i), _dict(check), known, report_in_value)
            if _dict(check).get("optional") is True:
                report(("plans", plan_id, "verify", i, "optional"), "a verification cannot be optional (use 'when')")
    _check_fields(data, report_in_value)


def _not_here(path: Path, action: dict[str, Any], what: str, report: Report) -> None:
    for key in ("when", "optional"):
        if key in action:
            report((*path, key), f"'{key}' is for plan steps and verifications, not {what}")


def _check_fields(data: dict[str, Any], report_in_value: ReportInValue) -> None:
    secrets = set(_dict(data.get("secrets")))
    secrets |= {n for n, p in _dict(data.get("params")).items() if _dict(p).get("secret")}
    for label, text in _dict(_dict(data.get("record")).get("fields")).items():
        if not isinstance(text, str):
            continue
        for match in PLACEHOLDER.finditer(text):
            if match.group(1) in secrets:
                report_in_value(
                    ("record", "fields", label), match.start(), f"a record field cannot show secret {match.group(1)!r}"
                )
