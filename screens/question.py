"""A question only the operator can answer (manual step, failure, lost outcome, quit?)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.engine.session import Question

LABELS = {
    "yes": "Yes, done",
    "no": "No",
    "abort": "Abort the plan",
    "retry": "Retry the step",
    "skip": "Skip the step",
    "continue": "Continue with the next step",
    "rerun": "Run it again",
    "done": "It finished: mark it done",
    "failed": "It failed: mark it failed",
}


class ChoiceScreen(ModalScreen[Any]):
    """Pick one option with the arrows and enter; escape answers ``cancel``."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    def __init__(self, title: str, text: str, options: list[tuple[str, Any]], cancel: Any, detail: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.choices = options
        self.cancel = cancel
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="question-box"):
            yield Static(Text(self.title_text, style="bold"), id="question-title")
            if self.text:
                yield Static(self.text)
            if self.detail:
                yield Static(Text(self.detail, style="dim"))
            yield OptionList(*[Option(label, id=str(i)) for i, (label, _) in enumerate(self.choices)])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[int(event.option.id or 0)][1])

    def action_cancel(self) -> None:
        self.dismiss(self.cancel)


def QuestionScreen(question: Question) -> ChoiceScreen:
    options = [(LABELS.get(o, o), o) for o in question.options]
    if question.kind == "manual":
        # "yes" first would make a stray enter claim a manual step was done; put the safe answer first.
        options.sort(key=lambda o: o[1] != "no")
    cancel = "abort" if "abort" in question.options else question.options[-1]
    return ChoiceScreen(
        f"{question.step_id}: {question.title}", question.text, options, cancel, "\n".join(question.describe)
    )


def ask_yes_no(title: str, text: str) -> ChoiceScreen:
    return ChoiceScreen(title, text, [("No", False), ("Yes", True)], False)
