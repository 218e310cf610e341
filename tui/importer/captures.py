"""Captured names made distinct across the whole runbook.

A session puts a step's captured value into the same scope as the params, vars and secrets, so a
capture named like one of them would replace it for every later step (``REASON=$(…)`` would
overwrite the operator's ``reason``), and two captures of one name (the same ``BACKUP=$(ls …)``
in two plans, or twice in one) would read as one value. Each capture gets a name nobody else
uses; the steps after it in its plan read that name, the steps before it keep what they read.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from tui.importer.steps import placeholder
from tui.runbook.placeholders import BUILTINS


def distinct_captures(checks: list[dict[str, Any]], plans: dict[str, Any], taken: Iterable[str]) -> None:
    """Rename, in place, each capture whose name is taken (a built-in, param, var, secret, or a
    capture before it in the pre-checks or in any plan) and every later use of it in its plan."""
    used = set(BUILTINS) | set(taken)
    shared = _follow(checks, used, {})  # pre-checks run before every plan: their captures reach them all
    for plan in plans.values():
        # the document-wide verifications are the same dicts in every plan: each plan renames its own copy
        plan["steps"] = copy.deepcopy(plan["steps"])
        if "verify" in plan:
            plan["verify"] = copy.deepcopy(plan["verify"])
        _follow([*plan["steps"], *plan.get("verify", [])], used, dict(shared))


def _follow(actions: list[dict[str, Any]], used: set[str], current: dict[str, str]) -> dict[str, str]:
    """``current``: the name each capture so far is read by → its key; the same, once ``actions`` ran."""
    for action in actions:
        for old, new in current.items():
            if old != new:
                _substitute(action, placeholder(old), placeholder(new))
        capture = action.get("capture")
        if not capture:
            continue
        renamed: dict[str, Any] = {}
        for name, source in capture.items():
            key = _fresh(name, used)
            used.add(key)
            renamed[key] = source
            current[name] = key
        action["capture"] = renamed
    return current


def _fresh(name: str, used: set[str]) -> str:
    if name not in used:
        return name
    base = re.sub(r"_\d+$", "", name)
    n = 2
    while f"{base}_{n}" in used:
        n += 1
    return f"{base}_{n}"


def _substitute(action: dict[str, Any], old: str, new: str) -> None:
    for key, value in action.items():
        if key != "capture":
            action[key] = _replaced(value, old, new)


def _replaced(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _replaced(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, old, new) for v in value]
    return value
