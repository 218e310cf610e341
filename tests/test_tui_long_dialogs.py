"""Every question dialog keeps its answers on an 80x24 screen, however long its text: the text
scrolls inside the dialog (pageup / pagedown) — a manual step's instruction, a message to send."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList

from screens.plan import PlanScreen
from screens.question import ChoiceScreen
from tests.tui_helpers import make_app, screen_lines, settle

LINES = "\n".join(f"instruction line {n} of a long manual procedure" for n in range(1, 41))
RUNBOOK = f'''schema = 1
id = "long-dialogs"
title = "long dialogs"
service = "long-dialogs"

[params.reason]
prompt = "What went wrong?"
required = true

[plans.A]
title = "By hand"

[[plans.A.steps]]
id = "by_hand"
title = "Restore by hand"
kind = "manual"
instruction = """{LINES}"""
'''


@pytest.fixture
def runbook(tmp_path: Path) -> Path:
    path = tmp_path / "long.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    return path


async def test_a_long_manual_instruction_scrolls_and_its_answers_stay_on_screen(runbook: Path) -> None:
    app = make_app(runbook, plan="A", reason="x")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")  # pre-checks (none) → the plan
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)
        await pilot.press("enter")  # the manual step asks
        await pilot.pause(0.3)
        assert isinstance(app.screen, ChoiceScreen)
        answers = app.screen.query_one(OptionList)
        assert answers.region.bottom <= 24 and answers.region.height >= 2  # both answers visible
        rows = screen_lines(app)
        assert any("instruction line 1 of" in row for row in rows)
        assert not any("instruction line 40 of" in row for row in rows)
        for _ in range(10):
            await pilot.press("pagedown")
        await pilot.pause(0.2)
        rows = screen_lines(app)
        assert any("instruction line 40 of" in row for row in rows)  # the rest was reachable
        assert app.screen.query_one(OptionList).has_focus  # the answer is still one enter away
        assert app.screen.query_one(OptionList).region.bottom <= 24
