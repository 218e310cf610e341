"""A drill whose scenario setup failed ends failed in the console, as it does headless: its
teardown runs, and no plan step can be timed against a staging that never had the fault."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from tests.tui_helpers import make_app, settle
from tui.engine import events as ev

# From SPEC.md alone: a drill that injects a fault on staging, whose injection breaks.
RUNBOOK = """schema = 1
id = "drill-setup"
title = "drill setup"
service = "cart"

[params.reason]
prompt = "What went wrong?"
required = true

[params.marks]
prompt = "Where the drill leaves its marks"

[plans.A]
title = "Roll back the cart"

[[plans.A.steps]]
id = "rollback"
title = "Roll back"
kind = "local"
run = "touch {{ marks }}/rolled-back"

[[drills]]
id = "bad-cart"
title = "The cart returns 500"
plan = "A"
target_minutes = 5

[[drills.setup]]
id = "inject"
title = "Break the staging cart"
kind = "local"
run = "echo 'cannot reach staging' >&2; exit 3"

[[drills.teardown]]
id = "heal"
title = "Heal the staging cart"
kind = "local"
run = "touch {{ marks }}/healed"
"""


async def test_a_failed_setup_ends_the_drill_failed_and_tears_it_down(tmp_path: Path, rbconsole_home: Path) -> None:
    path = tmp_path / "drill.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    app = make_app(path, drill=True, scenario="bad-cart", plan="A")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        app.screen.query_one("#start-reason", Input).value = "drill: cart 500"
        app.screen.query_one("#param-marks", Input).value = str(tmp_path)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        session = app.session
        assert session is not None
        assert session.state.result == "failed"
        ended = [e for e in session.events if e.type == ev.SESSION_ENDED]
        assert ended and ended[-1].data["reason"] == "the drill scenario's setup failed"
        assert (tmp_path / "healed").exists()
        await pilot.press("f4")
        await settle(app, pilot)
        await pilot.press("g")
        await settle(app, pilot)
        assert not (tmp_path / "rolled-back").exists()
        assert not [e for e in session.events if e.type == ev.STEP_STARTED and e.data["phase"] == "step"]
        shown = " ".join(n.message for n in app._notifications)
        assert "setup failed, so the drill ended (failed)" in shown
