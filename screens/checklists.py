"""Checklists before / during / after: space ticks; items tied to a check tick themselves."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from screens.base import SessionScreen
from screens.status import status_text
from tui.runbook.model import ChecklistItem
from tui.widgets.columns import LiteralTable

LISTS = (("pre", "Before"), ("during", "During"), ("post", "After"), ("followup", "Follow-up"))


class ChecklistsScreen(SessionScreen):
    WHERE = "Checklists"
    AUTO_FOCUS = "#checklist"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "tick", "Tick / untick", key_display="space", id="checklists.tick"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, int, ChecklistItem]] = []

    def compose(self) -> ComposeResult:
        yield from self.compose_top(self.runbook)
        yield LiteralTable(id="checklist", cursor_type="row", show_header=True)
        yield Static(id="checklist-summary")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(("", "box"), ("When", "list"), ("Item", "item"), ("Ticked by / check", "by"))
        lists = self.runbook.checklists
        for name, title in LISTS:
            for index, entry in enumerate(getattr(lists, name)):
                item = entry if isinstance(entry, ChecklistItem) else ChecklistItem(text=entry)
                self.items.append((name, index, item))
                table.add_row("[ ]", title, item.text, "", key=f"{name}:{index}")
        super().on_mount()
        self.redraw()

    def after_events(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        state = self.session.state
        table = self.query_one(DataTable)
        ticked = 0
        for name, index, item in self.items:
            tick = state.ticks.get((name, index))
            on = bool(tick and tick.get("ticked"))
            ticked += on
            key = f"{name}:{index}"
            table.update_cell(key, "box", Text("[x]", style=self.themed("bold $success")) if on else "[ ]")
            by = Text(str(tick.get("by", "")) if on and tick else "", style="dim")
            if item.check:
                action = state.action("pre", item.check)
                by = Text.assemble(
                    by,
                    " ",
                    status_text(action.status if action else "pending", self.app.theme_variables),
                    f" {item.check}",
                )
            table.update_cell(key, "by", by)
        left = len(self.items) - ticked
        self.query_one("#checklist-summary", Static).update(
            f"{ticked} of {len(self.items)} ticked" + (f" · {left} unticked go into the record" if left else "")
        )

    def action_tick(self) -> None:
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row < 0:
            return
        name, index, _ = self.items[table.cursor_row]
        tick = self.session.state.ticks.get((name, index))
        on = bool(tick and tick.get("ticked"))
        self.console.engine(self.session.tick(name, index, not on), "Tick")
