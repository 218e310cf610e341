"""Bad input reaches the operator as one line naming the file and line, never as a traceback."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from screens.picker import PickerScreen
from screens.plan import PlanScreen
from screens.reason import ReasonScreen
from tests.tui_helpers import make_app, settle, to_plan
from tui.commands import open as open_command
from tui.widgets.output_pane import OutputPane

BROKEN = """schema = 1
id = "broken"
title = "broken runbook"
service = "x"

[plans.A]
title = "A"
[[plans.A.steps]]
id = "s"
kind = "local"
run = "echo {{ nowhere }}"
"""


async def test_invalid_runbook_is_listed_with_its_first_problem_and_refused(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "broken.toml").write_text(BROKEN)
    monkeypatch.setenv("RBCONSOLE_PATH", str(tmp_path))
    app = make_app(None)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.press(*"broken", "enter")
        table = app.screen.query_one("#picker-table", DataTable)
        assert table.row_count == 1
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[0] == "✗" and row[4].startswith("broken.toml:11:")
        detail = str(app.screen.query_one("#picker-detail", Static).render())
        assert "broken.toml:11:" in detail and "nowhere" in detail  # the whole first problem
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)  # not opened
        messages = [n.message for n in app._notifications]
        assert any("broken.toml:11:" in m and "nowhere" in m for m in messages)


async def test_open_on_a_broken_file_shows_the_problem_then_the_picker(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(BROKEN)
    app = make_app(broken)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        assert any(f"{broken}:11:" in n.message for n in app._notifications)


def test_open_a_missing_file_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(file=str(tmp_path / "nope.toml"), runbooks=[], operator=None)
    assert open_command.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.toml" in err


async def test_a_failing_step_is_a_notification_and_output_search_finds_it(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await to_plan(app, pilot, tmp_path / "missing-dir")  # the marker dir does not exist: stops at the checks
        assert isinstance(app.screen, ReasonScreen)  # a blocking pre-check failed: enter asked why go on
        assert app.session is not None and app.session.blocking_failures() == ["tmp"]
        await pilot.press(*"testing the failure path", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)
        await pilot.press("enter")  # announce works
        await settle(app, pilot)
        await pilot.press("slash")
        await pilot.pause()
        search = app.screen.query_one("#output-search", Input)
        assert search.has_focus
        await pilot.press(*"line 7 of", "enter")
        await pilot.pause()
        pane = app.screen.query_one("#pane-all", OutputPane)
        assert pane.search == "line 7 of" and not pane.follow
        await pilot.press("enter")  # the cursor moved on to destroy: typed confirmation, then it fails
        await pilot.pause()
        await pilot.press(*"destroy", "enter")
        await settle(app, pilot)
        assert app.session is not None
        assert app.session.state.action("step", "destroy").status == "failed"
        assert any("destroy failed" in n.message for n in app._notifications)
        assert app.session.state.overrides == {"tmp": "testing the failure path"}
