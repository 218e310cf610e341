"""How statuses and durations read on screen (shared by the check, step and checklist screens)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rich.text import Text

from tui.engine.events import STATUS_WORDS
from tui.runbook.durations import format_duration
from tui.runbook.kinds import STEP_KINDS, step_kind
from tui.runbook.model import Step

# Colours are the theme's variables, so a status reads in any theme (light, dark, high contrast).
STATUS_STYLE = {
    "pending": ("·", "dim"),
    "running": ("▶", "bold $accent"),
    "ok": ("✓", "bold $success"),
    "skipped": ("↷", "dim"),
    "dry_run": ("○", "$secondary"),
    "failed": ("✗", "bold $error"),
    "error": ("✗", "bold $error"),
    "timeout": ("⌛", "bold $error"),
    "aborted": ("■", "bold $error"),
    "declined": ("✋", "$warning"),
    "unknown": ("?", "bold $warning"),
    "no_data": ("∅", "bold $error"),
    "not_sent": ("✉", "bold $warning"),
}

_VARIABLE = re.compile(r"\$([a-z][a-z0-9-]*)")


def themed(style: str, variables: Mapping[str, str]) -> str:
    """A Rich style with the theme's ``$name`` colours filled in (Rich alone knows no variables);
    an unknown name drops out rather than failing the paint."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1), ""), style).strip()


def mode_text(meta: Mapping[str, object]) -> str:
    """How a session ran: live, drill, and whether it was a dry run (never "live" for one)."""
    mode = str(meta.get("mode") or "live")
    return f"{mode} · dry run" if meta.get("dry_run") else mode


# On screen, where a step's status sits in a narrow cell, two more read better in words.
SCREEN_WORDS = {**STATUS_WORDS, "unknown": "outcome unknown", "dry_run": "dry run"}


def status_text(status: str, variables: Mapping[str, str]) -> Text:
    mark, style = STATUS_STYLE.get(status, ("?", ""))
    return Text(f"{mark} {SCREEN_WORDS.get(status, status)}", style=themed(style, variables))


def duration_text(seconds: float | None) -> str:
    """A step's time in a table cell: whole seconds (a sub-second time reads <1s), blank if none."""
    return format_duration(seconds, fine=False, missing="")


def target_of(action: Step) -> str:
    """Where an action acts, as the operator names it."""
    return step_kind(action.kind).target(action)


def resolved_target(started: dict[str, object]) -> str:
    """For kinds whose target is a URL, a ref or a query: the engine's resolved first line."""
    describe = started.get("describe")
    kind = STEP_KINDS.get(str(started.get("kind")))
    if kind is None or not kind.resolves_target or not isinstance(describe, list) or not describe:
        return ""
    first = str(describe[0])
    return first if len(first) <= 60 else first[:59] + "…"
