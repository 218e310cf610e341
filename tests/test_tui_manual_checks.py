"""The console asks about a manual pre-check while the automatic ones run, and shows what the
operator answered: confirmed by them, or not confirmed (which blocks like a failure)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

from screens.prechecks import PrechecksScreen
from screens.question import ChoiceScreen
from tests.test_truth_manual_checks import RUNBOOK
from tests.tui_helpers import make_app, screen_lines, settle


@pytest.fixture
def runbook(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    return path


async def dialog(app, pilot) -> ChoiceScreen:  # type: ignore[no-untyped-def]
    for _ in range(100):
        if isinstance(app.screen, ChoiceScreen) and any("does it hold?" in row for row in screen_lines(app)):
            return app.screen
        await pilot.pause(0.05)
    raise AssertionError("the manual pre-check was not asked")


@pytest.mark.parametrize(("answer", "shown"), [("yes", "confirmed by ana"), ("no", "not confirmed")])
async def test_a_manual_pre_check_is_asked_and_its_answer_shown(runbook: Path, answer: str, shown: str) -> None:
    app = make_app(runbook, plan="A", reason="ledger 500s", operator="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await dialog(app, pilot)
        rows = screen_lines(app)
        assert any("manual pre-check lead_ok" in row for row in rows)
        assert any("Ask the on-call lead" in row for row in rows)
        options = screen.query_one(OptionList)
        assert str(options.get_option_at_index(0).prompt) == "No, or not checked"  # a stray enter claims nothing
        if answer == "yes":
            await pilot.press("down")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PrechecksScreen)
        assert app.session is not None
        status = app.session.state.action("pre", "lead_ok")
        assert status is not None and status.status == ("ok" if answer == "yes" else "declined")
        text = "\n".join(screen_lines(app))
        assert shown in text
        summary = str(app.screen.query_one("#checks-summary", Static).render())
        assert ("Blocking: lead_ok" in summary) == (answer == "no")
