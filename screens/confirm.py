"""The typed confirmation of a destructive step: the operator types the host, group or step id.

Whatever the description's length, the expected answer and the text field stay on screen: the
description scrolls inside the dialog (pageup / pagedown while typing)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from screens.question import ScrollingModal
from tui.engine.session import Question


class ConfirmScreen(ScrollingModal):
    """Dismisses with "yes" only when the typed text is one of the question's targets; else "no"."""

    AUTO_FOCUS = "#confirm-input"
    BOX = "#confirm-box"
    SCROLL = "#confirm-scroll"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "decline", "Do not run", id="confirm.decline"),
        Binding("pageup", "scroll_text(-1)", "Scroll up", show=False, id="confirm.up"),
        Binding("pagedown", "scroll_text(1)", "Scroll down", show=False, id="confirm.down"),
    ]

    def __init__(self, question: Question) -> None:
        super().__init__(classes="danger-modal")
        self.question = question
        self.targets = tuple(question.targets) or (question.step_id,)

    def compose(self) -> ComposeResult:
        q = self.question
        with Vertical(id="confirm-box"):
            yield Static(Text(f"⚠ DESTRUCTIVE STEP  {q.step_id}", style="bold"), id="confirm-title")
            with VerticalScroll(id="confirm-scroll", can_focus=False):
                yield Static(Text(q.title or q.text))
                if q.text and q.text != q.title:
                    yield Static(Text(q.text, style="dim"))
                if q.describe:
                    yield Static(Text("\n".join(q.describe)), id="confirm-describe")
            names = " or ".join(f"'{t}'" for t in self.targets)
            yield Static(Text(f"Type {names} and press enter to run it; esc does not run it."))
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
