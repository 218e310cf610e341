"""Every journaled event with its time; n adds a free-text note (journaled too)."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input

from screens.base import SessionScreen
from tui.engine.events import OUTPUT, Event
from tui.runbook.durations import format_clock
from tui.widgets.columns import LiteralTable


def summary(event: Event) -> str:
    d = event.data
    kind = event.type
    if kind == "session_started":
        return f"{d.get('operator')} · {d.get('mode')} · {d.get('reason', '')}"
    if kind == "triage_answered":
        return f"{d.get('ask') or d.get('text')}: {d.get('label')}"
    if kind == "triage_reached":
        return f"{d.get('text')} → plan {d.get('plan')}" if d.get("plan") else f"{d.get('text')} ({d.get('action')})"
    if kind == "plan_chosen":
        why = f" — {d['reason']}" if d.get("reason") else ""
        return f"plan {d.get('plan')}: {d.get('title')}{why}"
    if kind in ("check_finished", "step_finished"):
        return f"{d.get('id')} {d.get('status')} {d.get('detail') or ''}".strip()
    if kind in ("check_started", "step_started"):
        return f"{d.get('id')} (attempt {d.get('attempt', 1)})"
    if kind == "checklist_ticked":
        return f"{'☑' if d.get('ticked') else '☐'} {d.get('text')} ({d.get('by')})"
    if kind == "confirmation":
        return f"{d.get('id')}: {d.get('question')} → {d.get('answer')} ({d.get('by')})"
    if kind == "note":
        return f"{d.get('text')} ({d.get('by')})"
    if kind == "session_ended":
        return f"{d.get('result')} {d.get('reason') or ''}".strip()
    return " ".join(f"{k}={v}" for k, v in d.items() if isinstance(v, str | int | float))[:200]


def when(ts: float, first: float) -> tuple[str, str]:
    """Wall-clock time and the offset from the session's start."""
    return time.strftime("%H:%M:%S", time.localtime(ts)), f"+{format_clock(ts - first)}"


class TimelineScreen(SessionScreen):
    WHERE = "Timeline"
    AUTO_FOCUS = "#timeline"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "note", "Add note", id="timeline.note"),
        Binding("escape", "cancel_note", "Cancel note", show=False, id="timeline.cancel"),
    ]

    def compose(self) -> ComposeResult:
        yield from self.compose_top(self.runbook)
        yield LiteralTable(id="timeline", cursor_type="row")
        yield Input(placeholder="a note for the timeline; enter saves it", id="timeline-note")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(("Time", "time"), ("+", "offset"), ("Event", "event"), ("What", "what"))
        self.query_one(Input).display = False
        self.first_ts: float | None = None
        super().on_mount()

    def show_event(self, event: Event) -> None:
        if event.type == OUTPUT:
            return
        if self.first_ts is None:
            self.first_ts = event.ts
        table = self.query_one(DataTable)
        table.add_row(
            *when(event.ts, self.first_ts),
            event.type.replace("_", " "),
            Text(summary(event), no_wrap=True, overflow="ellipsis"),
        )
        table.move_cursor(row=table.row_count - 1)

    def action_note(self) -> None:
        note = self.query_one(Input)
        note.display = True
        note.focus()

    def action_cancel_note(self) -> None:
        note = self.query_one(Input)
        note.value = ""
        note.display = False
        self.query_one(DataTable).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.console.engine(self.session.note(event.value.strip()), "Note")
        self.action_cancel_note()
