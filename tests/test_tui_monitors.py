"""The triage screen's live monitors: values against conditions, refreshed, the suggested
severity, and the operator setting it (journaled)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tests.lab.prometheus import PromLab
from tests.tui_helpers import make_app, settle
from tui.engine import events as ev

RUNBOOK = Path(__file__).parent / "data" / "metrics" / "metrics_lab.toml"


async def test_triage_shows_monitors_refreshes_and_sets_the_suggested_severity(
    prom: PromLab, tmp_path: Path, rbconsole_home: Path
) -> None:
    prom.set("lab_error_ratio", 0.08, service="shop")
    prom.settle()
    app = make_app(RUNBOOK, values={"prometheus": prom.url})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"errors up", "ctrl+s")
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        panel = app.screen.query_one("#triage-monitors", Static)
        text = str(panel.render())
        assert "🔥 error ratio [P1]: 0.08 vs > 0.05" in text
        assert "∅ queue depth (not exported yet) [P1]: no data" in text
        assert "monitors suggest P1 (1 of 4 not read) · severity: not set" in text
        started = [e for e in app.session.events if e.type == ev.MONITORS_READ]
        assert [e.data["at"] for e in started] == ["start"]
        prom.set("lab_diagnosis_failure_ratio", 0.7, service="wechat")
        prom.settle()
        app.screen.refresh_monitors()
        await settle(app, pilot)
        assert "monitors suggest P0" in str(panel.render())
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("enter")  # the suggestion is first
        await settle(app, pilot)
        assert app.session.state.meta["severity"] == "P0"
        assert "severity: P0" in str(panel.render())
        setting = [e.data for e in app.session.events if e.type == ev.SEVERITY_SET]
        assert setting == [{"level": "P0", "previous": None, "suggested": "P0", "by": setting[0]["by"]}]
        await pilot.press("enter")  # no [flow]: the plans are listed, P0's plan first
        await settle(app, pilot)
        assert app.session.state.plan == "A"
