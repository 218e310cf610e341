"""The typed confirmation of a destructive step: the operator types the host, group or step id.

Whatever the description's length, the expected answer and the text field stay on screen: the
description scrolls inside the dialog (pageup / pagedown while typing)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.engine.session import Question


class ConfirmScreen(ModalScreen[str]):
    """Dismisses with "yes" only when the typed text is one of the question's targets; else "no"."""

    AUTO_FOCUS = "#confirm-input"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "decline", "Do not run", id="confirm.decline"),
        Binding("pageup", "scroll_describe(-1)", "Scroll up", show=False, id="confirm.up"),
        Binding("pagedown", "scroll_describe(1)", "Scroll down", show=False, id="confirm.down"),
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

    def on_mount(self) -> None:
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit)

    def fit(self) -> None:
        # The box may take 90% of the screen: the description gets what the answer's rows leave.
        box = self.query_one("#confirm-box")
        scroll = self.query_one("#confirm-scroll")
        fixed = sum(w.outer_size.height for w in box.children if w is not scroll)
        room = int(self.size.height * 0.9) - box.styles.gutter.height - fixed
        scroll.styles.max_height = max(room, 1)

    def action_scroll_describe(self, direction: int) -> None:
        scroll = self.query_one("#confirm-scroll", VerticalScroll)
        scroll.scroll_relative(y=direction * max(scroll.size.height - 1, 1), animate=False)

    def action_decline(self) -> None:
        self.dismiss("no")
