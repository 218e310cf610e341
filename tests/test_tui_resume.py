"""``rbconsole resume SESSION`` in the console: it opens where the session stopped."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from textual.widgets import DataTable

from screens.picker import PickerScreen
from screens.plan import PlanScreen
from tests.tui_helpers import make_app, settle, to_plan
from tui.commands import resume
from tui.widgets.stopwatch import Stopwatch


def statuses(table: DataTable[object]) -> list[str]:
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_resume_opens_the_plan_where_the_session_stopped(tmp_path: Path) -> None:
    first = make_app()
    async with first.run_test(size=(100, 30)) as pilot:
        await to_plan(first, pilot, tmp_path)
        await pilot.press("enter")  # announce, then stop before the destructive step
        await settle(first, pilot)
        assert first.session is not None
        session_id = first.session.id
        await pilot.press("q")
    again = make_app(None, resume=session_id[-6:], operator="bo")  # a unique part of the id is enough
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(again, pilot)
        assert again.session is not None and again.session.id == session_id
        assert isinstance(again.screen, PlanScreen)
        table = again.screen.query_one("#steps", DataTable)
        assert statuses(table) == ["✓ ok", "· pending", "· pending", "· pending"]  # announce, destroy, after, verify
        assert again.session.pending_steps() == ["destroy", "after"]
        watch = again.screen.query_one(Stopwatch)
        assert watch.started is not None and watch.elapsed > 0  # counting since announce started, not from now
        resumed = [e for e in again.session.events if e.type == "session_resumed"]
        assert resumed and resumed[-1].data["operator"] == "bo"
        await pilot.press("s", *"done by hand", "enter")  # it carries on: skip the destructive step
        await settle(again, pilot)
        assert statuses(table)[1].startswith("↷ skipped")


async def test_a_session_that_cannot_be_opened_is_one_line_and_the_picker(tmp_path: Path) -> None:
    app = make_app(None, resume="zz-nothing")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, PickerScreen)
        assert any("zz-nothing" in n.message for n in app._notifications)


def _args(**given: object) -> argparse.Namespace:
    base = {"session": "zz-nothing", "headless": False, "yes": False, "record": None, "override": []}
    targets = {"ssh_config": None, "known_hosts": None, "operator": None, "profile": None}
    return argparse.Namespace(**(base | targets | given))


def test_the_command_refuses_an_unknown_id_before_opening_the_console(capsys: pytest.CaptureFixture[str]) -> None:
    assert resume._console(_args(), {}) == 2
    err = capsys.readouterr().err
    assert err.startswith("rbconsole resume: no session matches 'zz-nothing'") and err.count("\n") == 1
    assert resume._console(_args(yes=True), {}) == 2
    assert capsys.readouterr().err == "rbconsole resume: --yes, --record, --override and --with go with --headless\n"
