"""The runbook picker: every runbook on the search path with its validation state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from screens.base import ConsoleScreen
from tui import paths
from tui.runbook.loader import load

if TYPE_CHECKING:
    from tui.engine.store import SessionInfo

RECENT = 8


@dataclass(frozen=True)
class Entry:
    path: Path
    title: str
    service: str
    versions: str
    problem: str  # the first problem, "" when valid
    problems: int


def scan(extra: list[str]) -> list[Entry]:
    entries = []
    for path in paths.runbook_files(extra):
        loaded = load(path)
        rb = loaded.runbook
        first = loaded.problems[0] if loaded.problems else None
        entries.append(
            Entry(
                path=path,
                title=rb.title if rb else path.stem,
                service=rb.service if rb else "",
                versions=f"{rb.current_version} → {rb.target_version}" if rb and rb.current_version else "",
                problem=f"{first.line}:{first.col}: {first.message}" if first else "",
                problems=len(loaded.problems),
            )
        )
    return entries


class PickerScreen(ConsoleScreen):
    WHERE = "Runbooks"
    AUTO_FOCUS = "#picker-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="picker.open"),
        Binding("slash", "filter", "Filter", key_display="/", id="picker.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="picker.clear"),
        Binding("ctrl+r", "rescan", "Rescan", id="picker.rescan"),
        Binding("ctrl+o", "sessions", "Recent sessions", id="picker.sessions"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sessions: list[SessionInfo] = []
        self.entries: list[Entry] = []
        self.shown: list[Entry] = []

    def compose(self) -> ComposeResult:
        yield from self.compose_top(None)
        yield Input(placeholder="type to filter by title, service or file", id="picker-filter")
        yield DataTable(id="picker-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="picker-detail")
        yield Static("Recent sessions (enter resumes or opens one)", classes="section-title", id="sessions-title")
        yield DataTable(id="picker-sessions", cursor_type="row")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("", "Runbook", "Service", "Versions", "File / first problem")
        sessions = self.query_one("#picker-sessions", DataTable)
        sessions.add_columns("Session", "Runbook", "Operator", "Mode", "State")
        self.action_rescan()

    def action_rescan(self) -> None:
        self.entries = scan(list(self.console.options.runbook_dirs))
        self.refill(self.query_one(Input).value)
        self.fill_sessions()

    def fill_sessions(self) -> None:
        from tui.engine import store

        table = self.query_one("#picker-sessions", DataTable)
        table.clear()
        self.sessions = [store.info(d) for d in store.session_dirs()[-RECENT:]][::-1]
        for s in self.sessions:
            meta = s.state.meta
            title = str(meta.get("runbook_title") or meta.get("runbook_id") or "")
            table.add_row(s.id, title, str(meta.get("operator", "")), str(meta.get("mode", "")), s.status, key=s.id)
        table.display = bool(self.sessions)
        self.query_one("#sessions-title", Static).display = bool(self.sessions)

    def action_sessions(self) -> None:
        if self.sessions:
            self.query_one("#picker-sessions", DataTable).focus()

    def refill(self, term: str) -> None:
        term = term.strip().lower()
        self.shown = [e for e in self.entries if not term or term in f"{e.title} {e.service} {e.path.name}".lower()]
        table = self.query_one(DataTable)
        table.clear()
        for entry in self.shown:
            if entry.problem:
                state = Text("✗", style="bold red")
                where = Text(f"{entry.path.name}:{entry.problem}", style="red")
            else:
                state = Text("✓", style="bold green")
                where = Text(entry.path.name, style="dim")
            table.add_row(state, entry.title, entry.service, entry.versions, where)
        detail = self.query_one("#picker-detail", Static)
        if not self.entries:
            detail.update("No runbooks found. Add a folder with --runbooks DIR or $RBCONSOLE_PATH.")
        else:
            invalid = sum(1 for e in self.entries if e.problem)
            detail.update(f"{len(self.shown)} of {len(self.entries)} runbooks · {invalid} invalid")

    def on_key(self, event: events.Key) -> None:
        """Typing on the list filters it; q and ? keep their meaning as the first key."""
        search = self.query_one(Input)
        if search.has_focus or not event.is_printable or event.character in (None, "q", "?", "/"):
            return
        event.stop()
        event.prevent_default()
        search.focus()
        search.insert_text_at_cursor(event.character)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one(Input).value = ""
        self.query_one(DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "picker-sessions":
            self.console.resume_session(self.sessions[event.cursor_row].id)
        else:
            self.action_open()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if not self.shown or table.cursor_row < 0:
            return
        entry = self.shown[min(table.cursor_row, len(self.shown) - 1)]
        if entry.problem:
            more = f" (and {entry.problems - 1} more; see rbconsole validate)" if entry.problems > 1 else ""
            self.notify(f"{entry.path}:{entry.problem}{more}", title="Invalid runbook", severity="error")
            return
        self.console.open_runbook(entry.path)
