"""The rollback record, rendered from the journal, shown as Markdown and exported to a file."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from screens.base import SessionScreen
from tui.engine.events import Event
from tui.engine.results import label
from tui.record.build import IN_PROGRESS


class RecordScreen(SessionScreen):
    WHERE = "Record"
    AUTO_FOCUS = "#record-scroll"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "export", "Export", id="record.export"),
        Binding("x", "end", "End session", id="record.end"),
        Binding("ctrl+r", "refresh_record", "Refresh", id="record.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.exported: Path | None = None
        self._stale = True

    def compose(self) -> ComposeResult:
        yield from self.compose_top(self.runbook)
        yield Static(id="record-path")
        with VerticalScroll(id="record-scroll"):
            yield Markdown(id="record")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#record-path", Static).update("e exports the record to a file · x ends the session")
        self.action_refresh_record()

    def on_screen_resume(self) -> None:
        if self._stale:
            self.action_refresh_record()

    def show_event(self, event: Event) -> None:
        self._stale = True

    def render_markdown(self) -> str:
        from tui.record import render_markdown

        text = render_markdown(self.session.events, live=True)
        if self.console.is_drill:
            from tui.drill.finish import report_for

            text += "\n\n" + report_for(self.runbook, self.session.events)
        return text

    def action_refresh_record(self) -> None:
        self._stale = False
        self.console.engine(self._show(), "Render the record", group="record")

    async def _show(self) -> None:
        await self.query_one(Markdown).update(self.render_markdown())

    def action_export(self) -> None:
        if self.session.state.result is None:
            from screens.question import ask_yes_no

            def answered(yes: bool | None) -> None:
                if yes:
                    self._export()

            text = f'The session has not ended: the record will say "{IN_PROGRESS}" at the top. Export it anyway?'
            self.app.push_screen(ask_yes_no("Export an unfinished session", text), answered)
            return
        self._export()

    def _export(self) -> None:
        path = self.session.dir / "record.md"
        try:
            path.write_text(self.render_markdown(), encoding="utf-8")
        except OSError as exc:
            self.notify(f"cannot write {path}: {exc.strerror or exc}", severity="error")
            return
        self.exported = path
        self.query_one("#record-path", Static).update(Text(f"Exported: {path}"))
        self.notify(f"Record written to {path}", title="Exported", timeout=15)

    def action_end(self) -> None:
        from screens.question import ask_yes_no

        if self.session.state.result is not None:
            self.notify(f"The session already ended: {self.session.state.result}.")
            return
        result = label(self.session.result())

        def answered(yes: bool | None) -> None:
            if yes:
                self.console.engine(self._end(), "End the session")

        self.app.push_screen(ask_yes_no("End the session", f"The result would be: {result}. End it now?"), answered)

    async def _end(self) -> None:
        if self.console.drill_guard is not None:
            await self.console.drill_guard.teardown()  # the drill's report is kept as the console closes
        result = await self.session.end()
        self.notify(f"Session ended: {label(result)}")
        self.action_refresh_record()
