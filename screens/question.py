"""A question only the operator can answer (manual step, failure, lost outcome, quit?)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.engine.session import Question

LABELS = {
    "yes": "Yes, done",
    "run": "Run this optional step",
    "no": "No",
    "abort": "Abort the plan",
    "retry": "Retry the step",
    "skip": "Skip the step",
    "continue": "Continue with the next step",
    "rerun": "Run it again",
    "done": "It finished: mark it done",
    "failed": "It failed: mark it failed",
}
NOTIFY_LABELS = {"yes": "Sent it myself", "no": "Not sent"}
# A manual pre-check or verification: the operator looked, and says what they saw.
CHECK_LABELS = {"yes": "Yes, I checked: it holds", "no": "No, or not checked"}


class ScrollingModal(ModalScreen[Any]):
    """A dialog whose long text scrolls inside it (pageup / pagedown) while its answers stay on
    screen, at any size: the box may take 90% of the screen, the text gets what the rest leaves."""

    BOX = "#question-box"
    SCROLL = "#question-scroll"

    def on_mount(self) -> None:
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit)

    def fit(self) -> None:
        box = self.query_one(self.BOX)
        scroll = self.query_one(self.SCROLL)
        fixed = sum(w.outer_size.height for w in box.children if w is not scroll)
        room = int(self.size.height * 0.9) - box.styles.gutter.height - fixed
        scroll.styles.max_height = max(room, 1)

    def action_scroll_text(self, direction: int) -> None:
        scroll = self.query_one(self.SCROLL, VerticalScroll)
        scroll.scroll_relative(y=direction * max(scroll.size.height - 1, 1), animate=False)


class ChoiceScreen(ScrollingModal):
    """Pick one option with the arrows and enter; escape answers ``cancel``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="choice.cancel"),
        Binding("c", "copy", "Copy text", id="choice.copy"),
        # priority: the focused answer list would take pageup / pagedown for its two rows
        Binding("pageup", "scroll_text(-1)", "Scroll up", show=False, priority=True, id="choice.up"),
        Binding("pagedown", "scroll_text(1)", "Scroll down", show=False, priority=True, id="choice.down"),
    ]

    def __init__(
        self, title: str, text: str, options: list[tuple[str, Any]], cancel: Any, detail: str = "", copy: str = ""
    ) -> None:
        super().__init__()
        self.copy_text = copy
        self.title_text = title
        self.text = text
        self.choices = options
        self.cancel = cancel
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="question-box"):
            yield Static(Text(self.title_text, style="bold"), id="question-title")
            # Texts, never markup: they carry a runbook's and a command's words ("[docker]", "[/x]").
            with VerticalScroll(id="question-scroll", can_focus=False):
                if self.text:
                    yield Static(Text(self.text))
                if self.detail:
                    yield Static(Text(self.detail, style="dim"))
            yield OptionList(*[Option(Text(label), id=str(i)) for i, (label, _) in enumerate(self.choices)])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[int(event.option.id or 0)][1])

    def action_cancel(self) -> None:
        self.dismiss(self.cancel)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return bool(self.copy_text) if action == "copy" else True

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.copy_text)
        self.app.notify("message copied to the clipboard", timeout=3)


def QuestionScreen(question: Question) -> ChoiceScreen:
    check = question.about_a_check
    labels = NOTIFY_LABELS if question.kind == "notify" else CHECK_LABELS if check else LABELS
    options = [(labels.get(o, LABELS.get(o, o)), o) for o in question.options]
    if question.kind in ("manual", "notify", "optional"):
        # "yes" / "run" first would make a stray enter claim a manual step was done (or a
        # message sent), or run an optional step nobody decided on; put the safe answer first.
        safe = "skip" if question.kind == "optional" else "no"
        options.sort(key=lambda o: o[1] != safe)
    cancel = "abort" if "abort" in question.options else None if question.kind == "unknown" else question.options[-1]
    if question.kind == "notify":
        # No webhook: the operator sends this text themselves (c copies it), then says so.
        return ChoiceScreen(
            f"{question.step_id}: {question.title} — send this, then: sent?",
            question.text,
            options,
            cancel,
            "no webhook: nothing is sent from here · c copies the message",
            copy=question.text,
        )
    title = f"{question.step_id}: {question.title}"
    if check:
        title = f"manual {'pre-check' if question.phase == 'pre' else 'verification'} {title} — does it hold?"
    # A manual step's describe lines are its instruction again, which is already the text.
    describe = "" if question.kind == "manual" else "\n".join(question.describe)
    return ChoiceScreen(title, question.text, options, cancel, describe)


def ask_yes_no(title: str, text: str) -> ChoiceScreen:
    return ChoiceScreen(title, text, [("No", False), ("Yes", True)], False)
