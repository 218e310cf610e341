"""The built-in demo, drilled in the console with the keyboard: setup, triage-free plan A with its
typed confirmation, verification over HTTP, record export, teardown on quit."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from screens.confirm import ConfirmScreen
from screens.plan import PlanScreen
from screens.prechecks import PrechecksScreen
from screens.record import RecordScreen
from tests.tui_helpers import make_app, settle
from tui.widgets.drill_banner import DrillBanner

DEMO = Path(__file__).resolve().parent.parent / "runbooks" / "demo.toml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not DEMO.exists(), reason="runbooks/demo.toml not present")
async def test_demo_drill_from_launch_to_record(tmp_path: Path) -> None:
    sandbox = tmp_path / "sandbox"
    app = make_app(DEMO, drill=True, scenario="bad-release", plan="A")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")  # overview → incident form
        await pilot.pause()
        await pilot.press(*"drill: v2 errors", "tab", "tab", "ctrl+a", "ctrl+k", *str(sandbox))
        await pilot.press("tab", "ctrl+a", "ctrl+k", *str(free_port()))
        await pilot.press("ctrl+s")
        await settle(app, pilot, rounds=600)
        assert app.screen.query(DrillBanner)
        assert isinstance(app.screen, PrechecksScreen)
        assert (sandbox).is_dir()  # the scenario's setup made the sandbox
        await settle(app, pilot, rounds=600)  # the pre-checks
        assert app.session is not None
        for _ in range(600):  # the checks run in their own worker group, which settle() does not wait for
            if not any(a.status == "running" for a in app.session.state.in_phase("pre")):
                break
            await pilot.pause(0.05)
        failing = {c: app.session.state.action("pre", c).last.get("detail") for c in app.session.blocking_failures()}
        assert not failing
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)

        await pilot.press("g")  # run the rest: stops at the destructive step's confirmation
        for _ in range(400):
            await pilot.pause(0.05)
            if isinstance(app.screen, ConfirmScreen):
                break
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question.step_id == "stop"
        await pilot.press(*"stop", "enter")
        await settle(app, pilot, rounds=1200)
        assert not app.session.pending_steps(), app.session.stop_reason
        await pilot.press("v")
        await settle(app, pilot, rounds=600)
        verify = {a.id: a.status for a in app.session.state.in_phase("verify")}
        assert verify and set(verify.values()) == {"ok"}, verify

        await pilot.press("f7", "e")
        await settle(app, pilot)
        await pilot.press("down", "enter")  # export it although it has not ended
        await settle(app, pilot)
        assert isinstance(app.screen, RecordScreen)
        assert app.screen.exported is not None
        record = app.screen.exported.read_text()
        assert "DRILL" in record and record.startswith("> **IN PROGRESS")
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("down", "enter")  # every verification passed: end the drill as it quits
        for _ in range(400):
            if app.return_value is not None:
                break
            await asyncio.sleep(0.05)
    assert not sandbox.exists()  # torn down on the way out
    assert app.session is not None and app.session.state.result == "success"
