"""The demo drilled in the console with the keyboard: setup, pre-checks, typed confirmation, verify, export, teardown."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from screens.confirm import ConfirmScreen
from screens.plan import PlanScreen
from screens.prechecks import PrechecksScreen
from screens.record import RecordScreen
from tests.test_drill_demo import (
    DEMO,
    free_port,
    get_json,
    no_leftover_service,  # noqa: F401 (autouse: no demo-web outlives a test)
    port_closed,
    rbconsole,
)
from tests.tui_helpers import make_app, settle
from tui.drill import history
from tui.drill.finish import REPORT_NAME
from tui.engine.events import STEP_FINISHED, Event
from tui.engine.journal import JOURNAL_NAME, read_events
from tui.paths import history_dir, sessions_dir
from tui.widgets.drill_banner import DrillBanner


async def until(pilot: Pilot[int], condition: Callable[[], bool], rounds: int = 400) -> None:
    """Wait (bounded) for a condition while engine work keeps running (settle waits for it to stop)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the condition never held")


async def test_demo_drill_in_the_console(tmp_path: Path) -> None:
    box, port = tmp_path / "sandbox", free_port()
    app = make_app(Path(DEMO), drill=True, scenario="bad-release", plan="A")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")  # overview -> incident start
        await pilot.pause()
        app.screen.query_one("#start-reason", Input).value = "drill: v2 error rate"
        app.screen.query_one("#param-sandbox", Input).value = str(box)
        app.screen.query_one("#param-port", Input).value = str(port)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.session is not None and app.is_drill
        assert (box / "repo").is_dir(), "the scenario's setup ran"
        assert isinstance(app.screen, PrechecksScreen)
        state = app.session.state
        await until(pilot, lambda: len([a for a in state.in_phase("pre") if a.done or a.status == "failed"]) == 6)
        assert state.action("pre", "health-up").status == "ok"
        assert state.action("pre", "error-rate").status == "failed", "the incident shows in the pre-checks"

        await pilot.press("enter")  # warnings only: on to the plan
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)
        await pilot.press("g")  # run the rest: it stops at the destructive step's confirmation
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert get_json(port, "/version")["version"] == "v2", "nothing stopped before the typed confirmation"
        await pilot.press(*"stop", "enter")
        await settle(app, pilot)
        assert not app.session.pending_steps()
        assert get_json(port, "/version")["version"] == "v1", "the service really runs v1 now"
        await pilot.press("v")
        await settle(app, pilot)
        assert {a.id: a.status for a in app.session.state.in_phase("verify")} == {
            "version": "ok",
            "errors": "ok",
            "deployed": "ok",
        }

        for key in ("f2", "f3", "f4", "f5", "f6", "f8", "f7"):  # every screen of the session says DRILL
            await pilot.press(key)
            await settle(app, pilot)
            banner = app.screen.query_one(DrillBanner)
            assert "DRILL" in str(banner.render()), key
            assert app.screen.get_widget_at(2, banner.region.y)[0] is banner, f"{key}: the banner is hidden"
        assert isinstance(app.screen, RecordScreen)
        await pilot.press("e")
        await pilot.pause()
        # Not ended yet: the console says the export is not a final record before writing it.
        texts = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "has not ended" in texts and "IN PROGRESS — not a final record" in texts
        await pilot.press("down", "enter")
        await pilot.pause()
        exported = app.screen.exported
        assert exported is not None
        record = exported.read_text(encoding="utf-8")
        assert "DRILL" in record.split("## DRILL report")[0] and "of 3m00s target" in record.split("## DRILL report")[1]
        session_dir = app.session.dir

    assert not box.exists() and port_closed(port), "quitting the console tears the scenario down"
    teardown = [e for e in app.session.events if e.type == "step_finished" and e.data["phase"] == "teardown"]
    assert [e.data["status"] for e in teardown] == ["ok"]
    [kept] = history.load("demo", "A")
    assert kept.session == session_dir.name and kept.steps[2].id == "stop" and kept.steps[2].status == "ok"
    assert "## DRILL report" in (session_dir / REPORT_NAME).read_text(encoding="utf-8")


def test_drill_overview_snapshot(snap_compare) -> None:
    app = make_app(Path(DEMO), drill=True, scenario="bad-release", plan="A")
    assert snap_compare(app, terminal_size=(80, 24))


def test_drill_incident_start_snapshot(snap_compare) -> None:
    async def to_form(pilot: Pilot[int]) -> None:
        await pilot.press("enter")
        await pilot.pause()
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False

    app = make_app(Path(DEMO), drill=True, scenario="bad-release", plan="A")
    assert snap_compare(app, terminal_size=(120, 40), run_before=to_form)


NAPPING = """
schema = 1
id = "napping"
title = "one step that can be slow"
service = "svc"

[params.nap]
prompt = "seconds the nap step sleeps"
default = "1.5"

[plans.A]
title = "nap"
target_minutes = 1
[[plans.A.steps]]
id = "quick"
kind = "local"
run = "true"
[[plans.A.steps]]
id = "nap"
kind = "local"
run = "sleep {{ nap }}"
"""


async def test_plan_screen_flags_drift_against_earlier_drills(tmp_path: Path) -> None:
    runbook = tmp_path / "napping.toml"
    runbook.write_text(NAPPING, encoding="utf-8")
    baseline = rbconsole("drill", str(runbook), "--headless", "--yes", "--var", "nap=0")
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr
    [earlier] = history.load("napping", "A")

    app = make_app(runbook, drill=True, plan="A")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        app.screen.query_one("#start-reason", Input).value = "drift drill"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("enter")  # no pre-checks: on to the plan
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)
        assert app.screen.baselines["nap"]["seconds"] == round(earlier.steps[1].seconds, 3), "journaled"
        await pilot.press("g")
        await until(pilot, lambda: not app.session.pending_steps())
        await settle(app, pilot)
        assert app.screen.drifted == {"nap"}, "only the slow step is flagged"
        assert journaled_drift(app.session.events) == {"nap"}, "the screen shows what the engine journaled"
        cell = app.screen.query_one("#steps", DataTable).get_cell("step:nap", "time")
        assert str(cell).endswith("x") and "quick" not in app.screen.drifted


def journaled_drift(events: list[Event]) -> set[str]:
    return {e.data["id"] for e in events if e.type == STEP_FINISHED and (e.data.get("drift") or {}).get("flagged")}


async def test_plan_screen_shows_the_journaled_drift_when_the_history_is_gone(tmp_path: Path) -> None:
    runbook = tmp_path / "napping.toml"
    runbook.write_text(NAPPING, encoding="utf-8")
    assert rbconsole("drill", str(runbook), "--headless", "--yes", "--var", "nap=0").returncode == 0
    live = rbconsole("run", str(runbook), "--plan", "A", "--yes", "--var", "nap=1.6")
    assert live.returncode == 0, live.stdout + live.stderr
    assert "  drift: step 2 (nap): " in live.stdout
    shutil.rmtree(history_dir())  # what the screen shows is what the session journaled, not today's history
    journals = [(d.name, read_events(d / JOURNAL_NAME)) for d in sessions_dir().iterdir()]
    [(session_id, events)] = [(name, events) for name, events in journals if events[0].data["mode"] == "live"]
    assert journaled_drift(events) == {"nap"}

    app = make_app(None, resume=session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen) and app.session is not None and app.session.read_only
        assert app.screen.drifted == {"nap"}
        cell = app.screen.query_one("#steps", DataTable).get_cell("step:nap", "time")
        assert str(cell).endswith("x")
