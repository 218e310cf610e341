"""The typed confirmation of a destructive step: the operator types the host, group or step id."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.engine.session import Question


class ConfirmScreen(ModalScreen[str]):
    """Dismisses with "yes" only when the typed text is one of the question's targets; else "no"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "decline", "Do not run", id="confirm.decline"),
    ]

    def __init__(self, question: Question) -> None:
        super().__init__(classes="danger-modal")
        self.question = question
        self.targets = tuple(question.targets) or (question.step_id,)

    def compose(self) -> ComposeResult:
        q = self.question
        with Vertical(id="confirm-box"):
            yield Static(Text(f"⚠ DESTRUCTIVE STEP  {q.step_id}", style="bold"), id="confirm-title")
            yield Static(q.title or q.text)
            if q.text and q.text != q.title:
                yield Static(Text(q.text, style="dim"))
            if q.describe:
                yield Static(Text("\n".join(q.describe)), id="confirm-describe")
            names = " or ".join(f"'{t}'" for t in self.targets)
            yield Static(f"Type {names} and press enter to run it; esc does not run it.")
            yield Input(placeholder="type the name here", id="confirm-input")
            yield Static("", id="confirm-error", classes="error-text")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() in self.targets:
            self.dismiss("yes")
            return
        self.query_one("#confirm-error", Static).update("That is not the name; nothing ran.")
        event.input.value = ""

    def action_decline(self) -> None:
        self.dismiss("no")
