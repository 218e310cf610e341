"""Every key of the screen below, and the keys that move between screens."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.widgets.keys import screen_bindings


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
    ]

    def __init__(self, below: Screen[Any]) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        table = Table(title="Keys", title_justify="left", expand=True, show_header=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("what")
        for _, binding in screen_bindings(self.below):
            table.add_row(
                binding.key_display or self.app.get_key_display(binding), binding.tooltip or binding.description
            )
        table.add_row("ctrl+p", "command palette (every action, searchable)")
        with VerticalScroll(id="help-box"):
            yield Static(table)
            yield Static(
                "Outside the incident form: F2 triage · F3 pre-checks · F4 plan · F5 checklists · "
                "F6 timeline · F7 record · F8 contacts.  Output: / search, end follows the tail."
            )

    def action_close(self) -> None:
        self.dismiss(None)
