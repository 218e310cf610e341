"""Ask the operator why (overriding a recommendation or a failed check); the reason is journaled."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ReasonScreen(ModalScreen[str | None]):
    """Dismisses with the reason text, or None on escape; an empty reason is not accepted."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="reason.cancel")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="question-box"):
            yield Static(Text(self.title_text, style="bold"))
            yield Static(Text(self.text))
            yield Input(placeholder="the reason (recorded)", id="reason-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.dismiss(event.value.strip())
        else:
            self.notify("A reason is needed (it goes into the record).", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)
