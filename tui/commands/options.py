"""The command line's flags as the one options type the engine and the console take.

Every command that starts or reopens a session (``rbconsole``, ``open``, ``run``, ``drill``,
``resume``) reads its flags into a :class:`~tui.engine.api.StartOptions` here; the console gets
the same object (``create_app(start=...)``) and its incident form edits a copy of it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from typing import Any

from tui.engine.api import StartOptions
from tui.runbook.loader import load
from tui.runbook.model import Runbook

# mode and headless are never flags of their own: the command decides them (drill; the headless runner).
_FROM_FLAGS = {f.name for f in fields(StartOptions)} - {"mode", "headless"}


def parse_vars(pairs: list[str]) -> dict[str, str]:
    """``--var k=v`` pairs; raises ValueError naming the bad one."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--var {pair!r}: write it as NAME=VALUE")
        values[name.strip()] = value
    return values


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """``--override CHECK_ID=REASON`` pairs; raises ValueError naming the bad one (a reason is required)."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, reason = pair.partition("=")
        if not sep or not name.strip() or not reason.strip():
            raise ValueError(f"--override {pair!r}: write it as CHECK_ID=REASON (the reason is journaled)")
        overrides[name.strip()] = reason.strip()
    return overrides


def load_runbook(path: str) -> Runbook | None:
    """The runbook at ``path``, or None after printing each problem as file:line:col on stderr."""
    loaded = load(path)
    if not loaded.ok or loaded.runbook is None:
        for problem in loaded.problems:
            print(problem, file=sys.stderr)
        return None
    return loaded.runbook


def headless_flags(args: argparse.Namespace, **given: Any) -> tuple[StartOptions, dict[str, str]]:
    """:func:`start_options` and the ``--override`` reasons; raises ValueError for a malformed flag."""
    return start_options(args, **given), parse_overrides(getattr(args, "override", None) or [])


def start_options(args: argparse.Namespace, **given: Any) -> StartOptions:
    """The session options the flags in ``args`` set (those a command lacks keep their defaults),
    with ``given`` over them (what the command decided, e.g. a drill's mode and plan).

    Raises ValueError for a malformed ``--var``."""
    found: dict[str, Any] = {}
    for name in _FROM_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            found[name] = value
    found["values"] = parse_vars(getattr(args, "var", None) or [])
    found["with_steps"] = tuple(getattr(args, "with_steps", None) or ())
    found["reason"] = found.get("reason") or ""
    return StartOptions(**{**found, **given})
