"""Every action with a key is also in the command palette, and ? lists the same keys."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from textual.widgets import Static

from screens.help import HelpScreen
from screens.plan import PlanScreen
from tests.tui_helpers import make_app, settle, to_plan


async def test_plan_actions_are_in_the_palette_and_the_help(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await to_plan(app, pilot, tmp_path)
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        titles = {command.title for command in app.get_system_commands(screen)}
        for description in ("Run step", "Run the rest", "Retry", "Skip", "Abort", "Verify", "Search output", "Quit"):
            assert description in titles
        palette_verify = next(c for c in app.get_system_commands(screen) if c.title == "Verify")
        palette_verify.callback()
        await settle(app, pilot)
        assert app.session is not None and app.session.state.action("verify", "marker") is not None

        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=100, record=True)
        for static in app.screen.query(Static):
            console.print(static.content)
        text = console.export_text()
        assert "Run the rest" in text and "Abort" in text and "ctrl+p" in text
        await pilot.press("escape")
        assert isinstance(app.screen, PlanScreen)
