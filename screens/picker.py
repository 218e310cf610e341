"""The runbook picker: every runbook on the search path with its validation state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from screens.base import ConsoleScreen
from screens.status import mode_text
from tui import paths
from tui.runbook.loader import load
from tui.widgets.columns import LiteralTable

if TYPE_CHECKING:
    from tui.engine.store import SessionInfo

RECENT = 8
# Below this width the file column goes: the detail line names the highlighted runbook's file.
FILE_COLUMN_MIN_WIDTH = 100
MIN_TITLE = 12


@dataclass(frozen=True)
class Entry:
    path: Path
    title: str
    service: str
    versions: str
    problem: str  # the first problem, "" when valid
    problems: int

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.problem}" if self.problem else self.path.name


def fit(text: str, width: int, style: str = "") -> Text:
    """One cell of at most ``width`` columns (CJK counts double), cut with an ellipsis."""
    cell = Text(text, style=style, no_wrap=True, overflow="ellipsis")
    cell.truncate(max(width, 1), overflow="ellipsis")
    return cell


def shown_path(path: Path) -> str:
    """Short and still findable: relative to the working directory when under it, else ~/…"""
    path = path.absolute()
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        if path.is_relative_to(base):
            return prefix + str(path.relative_to(base))
    return str(path)


def widest(values: list[str], header: str, cap: int) -> int:
    return min(max([cell_len(header), *(cell_len(v) for v in values)]), cap)


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
        # One line, not three: at 80x24 every row of the list counts.
        yield Input(placeholder="/ type to filter by title, service or file", compact=True, id="picker-filter")
        yield LiteralTable(id="picker-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="picker-detail")
        yield Static("Recent sessions (enter resumes or opens one)", classes="section-title", id="sessions-title")
        yield LiteralTable(id="picker-sessions", cursor_type="row")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        sessions = self.query_one("#picker-sessions", DataTable)
        sessions.add_columns("Session", "Runbook", "Operator", "Mode", "State")
        self.action_rescan()

    def action_rescan(self) -> None:
        self.entries = scan(list(self.console.options.runbook_dirs))
        self.refill(self.query_one(Input).value)
        self.fill_sessions()

    def fill_sessions(self) -> None:
        from tui.engine import store
        from tui.engine.results import label

        table = self.query_one("#picker-sessions", DataTable)
        table.clear()
        self.sessions = [store.info(d) for d in store.session_dirs()[-RECENT:]][::-1]
        for s in self.sessions:
            meta = s.state.meta
            title = str(meta.get("runbook_title") or meta.get("runbook_id") or "")
            table.add_row(s.id, title, str(meta.get("operator", "")), mode_text(meta), label(s.status), key=s.id)
        table.display = bool(self.sessions)
        self.query_one("#sessions-title", Static).display = bool(self.sessions)

    def action_sessions(self) -> None:
        if self.sessions:
            self.query_one("#picker-sessions", DataTable).focus()

    def refill(self, term: str) -> None:
        before = self.highlighted()
        term = term.strip().lower()
        self.shown = [e for e in self.entries if not term or term in f"{e.title} {e.service} {e.path.name}".lower()]
        table = self.query_one("#picker-table", DataTable)
        table.clear(columns=True)
        # Every column but the title is sized to its content; the title takes what is left and is
        # cut with an ellipsis, so service, versions and validation stay visible at 80 columns.
        width = table.size.width or self.app.size.width
        service = widest([e.service for e in self.shown], "Service", 20)
        versions = widest([e.versions for e in self.shown], "Versions", 24)
        show_file = width >= FILE_COLUMN_MIN_WIDTH
        file = widest([e.where for e in self.shown], "File / first problem", 40) if show_file else 0
        columns = 5 if show_file else 4
        # 2 cells of padding per column, 2 for the vertical scrollbar.
        title = max(MIN_TITLE, width - 2 * columns - 2 - 1 - service - versions - file)
        table.add_column("", width=1, key="state")
        table.add_column("Runbook", width=title, key="title")
        table.add_column("Service", width=service, key="service")
        table.add_column("Versions", width=versions, key="versions")
        if show_file:
            table.add_column("File / first problem", width=file, key="file")
        for entry in self.shown:
            state = (
                Text("✗", style=self.themed("bold $error"))
                if entry.problem
                else Text("✓", style=self.themed("bold $success"))
            )
            row: list[Text] = [
                state,
                fit(entry.title, title, self.themed("$error") if entry.problem else ""),
                fit(entry.service, service),
                fit(entry.versions or "—", versions, "" if entry.versions else "dim"),
            ]
            if show_file:
                row.append(fit(entry.where, file, self.themed("$error") if entry.problem else "dim"))
            table.add_row(*row, key=str(entry.path))
        if before in self.shown:
            table.move_cursor(row=self.shown.index(before), animate=False)
        self.show_detail()

    def show_detail(self) -> None:
        """The highlighted runbook's file and first problem, or the totals when nothing is shown."""
        detail = self.query_one("#picker-detail", Static)
        entry = self.highlighted()
        if not self.entries:
            detail.update("No runbooks found. Add a folder with --runbooks DIR or $RBCONSOLE_PATH.")
            return
        invalid = sum(1 for e in self.entries if e.problem)
        counts = f"{len(self.shown)} of {len(self.entries)} runbooks · {invalid} invalid"
        line = Text(no_wrap=True, overflow="ellipsis")
        if entry is None:
            line.append(counts + " · nothing matches the filter (escape clears it)")
        elif entry.problem:
            line.append(f"✗ {entry.where}", style=self.themed("$error"))
        else:
            line.append(f"{counts} · ", style="dim")
            line.append(shown_path(entry.path))
        detail.update(line)

    def highlighted(self) -> Entry | None:
        table = self.query_one("#picker-table", DataTable)
        if not self.shown or table.cursor_row < 0:
            return None
        return self.shown[min(table.cursor_row, len(self.shown) - 1)]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "picker-table":
            self.show_detail()

    def on_resize(self, event: events.Resize) -> None:
        self.redraw()

    def redraw(self) -> None:
        self.refill(self.query_one(Input).value)

    def on_key(self, event: events.Key) -> None:
        """Typing on the list filters it; q and ? keep their meaning as the first key. Down in the
        filter goes to the list (its first match highlighted); up on the list's first row goes back."""
        search = self.query_one(Input)
        table = self.query_one("#picker-table", DataTable)
        if search.has_focus and event.key in ("down", "up", "pagedown", "pageup"):
            event.stop()
            event.prevent_default()
            table.focus()
            return
        if table.has_focus and event.key == "up" and table.cursor_row <= 0:
            event.stop()
            event.prevent_default()
            search.focus()
            return
        if search.has_focus or not event.is_printable or event.character in (None, "q", "?", "/"):
            return
        event.stop()
        event.prevent_default()
        search.focus()
        search.insert_text_at_cursor(event.character)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the filter opens the highlighted runbook (the only one, once filtered down)."""
        self.query_one("#picker-table", DataTable).focus()
        self.action_open()

    def action_filter(self) -> None:
        self.query_one(Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one(Input).value = ""
        self.query_one("#picker-table", DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "picker-sessions":
            self.console.resume_session(self.sessions[event.cursor_row].id)
        else:
            self.action_open()

    def action_open(self) -> None:
        entry = self.highlighted()
        if entry is None:
            return
        if entry.problem:
            more = f" (and {entry.problems - 1} more; see rbconsole validate)" if entry.problems > 1 else ""
            self.notify(f"{entry.path}:{entry.problem}{more}", title="Invalid runbook", severity="error")
            return
        self.console.open_runbook(entry.path)
