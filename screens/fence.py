"""A fenced run refused: every target that would reach production, one a line, with the fix.

The list scrolls (up/down, and sideways for a long line); the highlighted target is shown
whole below it, wrapped, so nothing needs a wide terminal to be read."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.engine.fence import Refused


class FenceScreen(ModalScreen[None]):
    AUTO_FOCUS = "#fence-targets"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="fence.close"),
        Binding("enter", "close", "Close", show=False, id="fence.enter"),
        Binding("c", "copy", "Copy the list", id="fence.copy"),
    ]

    def __init__(self, refused: Refused) -> None:
        super().__init__(classes="danger-modal")
        self.refused = refused

    def compose(self) -> ComposeResult:
        targets, profile = self.refused.targets, self.refused.profile
        with Vertical(id="fence-box"):
            yield Static(Text(f"⛔ FENCED IN: profile {profile!r} — nothing ran", style="bold"), id="fence-title")
            yield Static(
                f"{len(targets)} target(s) come from the runbook's production values. Override each in "
                f"[profiles.{profile}] or with --var, or list it in shared.",
                markup=False,
            )
            table: DataTable[Text] = DataTable(id="fence-targets", cursor_type="row", zebra_stripes=True)
            table.add_columns("where", "from", "fix", "target", "in")
            for target in targets:
                file, _, line = target.where.rpartition(":")
                where = f"{Path(file).name}:{line}"
                cells = (where, target.source, target.fix, f"{target.kind} {target.value}", target.action)
                table.add_row(*(Text(cell) for cell in cells))  # Text: "[profiles.x]" is not markup
            yield table
            yield Static("", id="fence-detail", markup=False)
            yield Static(Text("↑↓ a target · c copies the list · esc closes", style="dim"))

    def on_mount(self) -> None:
        self.show(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show(event.cursor_row)

    def show(self, row: int) -> None:
        if not 0 <= row < len(self.refused.targets):
            return
        target = self.refused.targets[row]
        self.query_one("#fence-detail", Static).update(f"{target.line()}\nfix: {target.fix}")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(str(self.refused))
        self.app.notify("the refusal copied to the clipboard", timeout=3)
