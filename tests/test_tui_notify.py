"""The console's "sent?" question for a notify with no webhook: the text shown whole, copyable,
and the safe answer ("Not sent") first."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.widgets import OptionList, Static

from screens.question import QuestionScreen
from tui.engine.api import Question

MESSAGE = "【回滚通知】shop 回滚到 v1.2.3\n原因: 5xx | 负责人: ana"


async def test_notify_question_shows_the_text_copies_it_and_defaults_to_not_sent() -> None:
    answers: list[Any] = []
    question = Question("notify", "tell", "step", "Tell the channel", MESSAGE, ("yes", "no"), ("no webhook",))

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(QuestionScreen(question), callback=answers.append)

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = "\n".join(str(w.render()) for w in app.screen.query(Static))
        assert "shop 回滚到 v1.2.3" in shown and "负责人: ana" in shown
        options = app.screen.query_one(OptionList)
        assert [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)] == [
            "Not sent",
            "Sent it myself",
        ]
        await pilot.press("c")
        assert app.clipboard == MESSAGE
        await pilot.press("enter")  # a stray enter claims nothing was sent
        await pilot.pause()
    assert answers == ["no"]
