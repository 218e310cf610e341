"""A failed blocking pre-check holds the plan in the console whatever key reaches the plan
screen (F4 walked around the pre-checks screen's gate); an override with a reason opens it."""

from __future__ import annotations

from pathlib import Path

from screens.plan import PlanScreen
from tests.tui_helpers import make_app, screen_lines, settle
from tui.engine import events as ev

# From SPEC.md alone: the database must answer before anything is touched.
RUNBOOK = """schema = 1
id = "gate"
title = "gate"
service = "gate"

[params.reason]
prompt = "What went wrong?"
required = true

[params.marks]
prompt = "Where the step leaves its mark"

[[checks]]
id = "db_up"
title = "The database answers"
kind = "local"
run = "exit 1"
severity = "blocking"

[plans.A]
title = "Restore"

[[plans.A.steps]]
id = "restore"
title = "Restore the build"
kind = "local"
run = "touch {{ marks }}/restored"
"""


async def test_f4_then_g_does_not_walk_past_a_failed_blocking_check(tmp_path: Path, rbconsole_home: Path) -> None:
    path = tmp_path / "gate.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    app = make_app(path, plan="A", reason="db down", values={"marks": str(tmp_path)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.session is not None and app.session.blocking_failures() == ["db_up"]
        await pilot.press("f4")
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)
        status = "\n".join(screen_lines(app))
        assert "Held: blocking pre-check db_up has not passed · F3 re-runs or overrides it" in status
        await pilot.press("g")
        await settle(app, pilot)
        await pilot.press("enter")  # one step, too
        await settle(app, pilot)
        assert not (tmp_path / "restored").exists()
        assert not [e for e in app.session.events if e.type == ev.STEP_STARTED]
        shown = [n.message for n in app._notifications]
        assert any("blocking pre-check db_up did not pass" in m for m in shown), shown
        await app.session.override_check("db_up", "the replica answers; primary is being failed over")
        await pilot.press("g")
        await settle(app, pilot)
        assert (tmp_path / "restored").exists()
