"""The whole operator flow driven with the keyboard, on real local steps."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Markdown, Static

from screens.confirm import ConfirmScreen
from screens.plan import PlanScreen
from screens.prechecks import PrechecksScreen
from screens.record import RecordScreen
from screens.triage import TriageScreen
from tests.tui_helpers import make_app, settle, start_incident, to_plan
from tui.app import RbConsoleApp
from tui.engine.events import CONFIRMATION
from tui.widgets.output_pane import OutputPane


async def test_picker_to_record_export(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RBCONSOLE_PATH", str(Path(__file__).parent / "data"))
    app = make_app(None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"tui-flow")  # filter the picker
        await pilot.press("down", "enter")  # to the table, open the highlighted runbook
        await pilot.pause()
        assert app.loaded is not None and app.loaded.runbook is not None
        assert app.loaded.runbook.id == "tui-flow"
        await start_incident(app, pilot, tmp_path, "5xx after deploy")
        assert isinstance(app.screen, TriageScreen)
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PrechecksScreen)
        assert app.session is not None and app.session.state.plan == "A"
        assert {a.status for a in app.session.state.in_phase("pre")} == {"ok"}
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)

        await pilot.press("enter")  # announce
        await settle(app, pilot)
        assert app.screen.query_one("#pane-all", OutputPane).last_line == "line 40 of the announcement"
        await pilot.press("enter")  # destroy: the typed confirmation
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(*"destroy", "enter")
        await settle(app, pilot)
        assert (tmp_path / "tui-flow-destroyed").read_text() == "destroyed\n"
        await pilot.press("enter")  # after
        await settle(app, pilot)
        await pilot.press("v")
        await settle(app, pilot)
        state = app.session.state
        assert state.action("verify", "marker").status == "ok"
        assert not app.session.pending_steps()

        await pilot.press("f5", "space")  # tick the first item
        await settle(app, pilot)
        assert app.session.state.ticks[("pre", 0)]["ticked"] is True
        assert app.session.state.ticks[("pre", 1)]["by"] == "check:tmp"  # ticked by its check

        await pilot.press("f7")
        await settle(app, pilot)
        assert isinstance(app.screen, RecordScreen)
        await pilot.press("e")
        await pilot.pause()
        # Not ended yet: the console says the export is not a final record before writing it.
        texts = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "has not ended" in texts and "IN PROGRESS — not a final record" in texts
        await pilot.press("down", "enter")
        await pilot.pause()
        exported = app.screen.exported
        assert exported is not None and exported.is_file()
        text = exported.read_text()
        assert text.startswith("> **IN PROGRESS — not a final record**")
        assert "destroy" in text and "tui-flow" in text
        assert str(exported) in str(app.screen.query_one("#record-path").render())
        assert app.screen.query_one(Markdown).source.strip()


async def test_declined_confirmation_runs_nothing(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await to_plan(app, pilot, tmp_path)
        await pilot.press("down", "enter")  # the destructive step
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(*"wrong", "enter")  # a wrong name keeps the modal up
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)
        assert app.session is not None
        assert app.session.state.action("step", "destroy") is None
        answers = [e.data for e in app.session.events if e.type == CONFIRMATION]
        assert answers and answers[-1]["answer"] == "no"


async def slow_step_running(app: RbConsoleApp, pilot: Pilot[int], marker_dir: Path) -> None:
    await start_incident(app, pilot, marker_dir)
    await pilot.press("enter")  # P0
    await settle(app, pilot)
    await pilot.press("down", "down", "enter")  # plan "slow" instead of A
    await pilot.pause()
    await pilot.press(*"drill the abort", "enter")
    await settle(app, pilot)
    await pilot.press("enter")
    await settle(app, pilot)
    assert isinstance(app.screen, PlanScreen)
    await pilot.press("enter")
    pane = app.screen.query_one("#pane-all", OutputPane)
    for _ in range(100):
        await pilot.pause(0.05)
        if pane.last_line == "started":
            break
    assert pane.last_line == "started"
    assert app.busy


async def test_abort_stops_the_running_step(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await slow_step_running(app, pilot, tmp_path)
        assert app.session is not None and app.session.state.plan_event["reason"] == "drill the abort"
        await pilot.press("a")
        await settle(app, pilot)
        assert app.session.state.action("step", "long").status == "aborted"


async def test_quit_while_a_step_runs_asks_first(tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await slow_step_running(app, pilot, tmp_path)
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running and app.busy  # asked, did not quit
        await pilot.press("escape")  # "no": keep going
        await pilot.pause()
        assert app.is_running and app.busy
        await pilot.press("q", "down", "enter")  # "yes": abort and quit
        for _ in range(200):
            if app.return_value is not None:
                break
            await asyncio.sleep(0.05)
    assert app.return_value == 1
    assert app.session is not None
    assert app.session.state.action("step", "long").status == "aborted"


async def test_picker_lists_recent_sessions_and_resumes_one(tmp_path: Path) -> None:
    first = make_app()
    async with first.run_test(size=(100, 30)) as pilot:
        await to_plan(first, pilot, tmp_path)
        await pilot.press("enter")  # announce
        await settle(first, pilot)
        assert first.session is not None
        session_id = first.session.id
        await pilot.press("q")
    second = make_app(None)
    async with second.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+o")  # to the recent sessions
        await pilot.pause()
        await pilot.press("enter")
        await settle(second, pilot)
        assert second.session is not None and second.session.id == session_id
        assert isinstance(second.screen, PlanScreen)
        assert second.session.pending_steps() == ["destroy", "after"]
        await pilot.press("enter")  # carries on where it stopped: the destructive step asks
        await pilot.pause()
        assert isinstance(second.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(second, pilot)


async def test_values_given_to_the_factory_prefill_the_form(tmp_path: Path) -> None:
    app = make_app(values={"marker_dir": str(tmp_path), "reason": "given on the command line"})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.session is not None
        meta = app.session.state.meta
        assert meta["reason"] == "given on the command line"
        assert meta["params"]["marker_dir"] == str(tmp_path)
