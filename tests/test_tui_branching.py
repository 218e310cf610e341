"""The console's side of branching: the optional-step question and the escalation prompt."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

from screens.plan import PlanScreen
from screens.question import ChoiceScreen
from tests.tui_helpers import make_app, settle
from tui.app import RbConsoleApp
from tui.engine import events as ev

# Kept here rather than in tests/data, where the picker's snapshots would list it.
RUNBOOK_TEXT = """schema = 1
id = "tui-branching"
title = "branching in the console"
service = "tui-branching"

[params.reason]
prompt = "What went wrong?"
required = true

[params.script]
prompt = "does the script work?"
default = "works"

[[checks]]
id = "echo"
title = "Shell answers"
kind = "local"
run = "echo shell ok"

[plans.A]
title = "Restore"
target_minutes = 10

[[plans.A.steps]]
id = "script"
title = "Run the restore script"
kind = "local"
run = "test {{ script }} = works"

[[plans.A.steps]]
id = "restart_mongo"
title = "Restart MongoDB"
kind = "local"
run = "echo mongo restarted"
optional = true
ask = "Restart MongoDB if necessary (the document: 必要时重启 MongoDB)"

[[contacts]]
role = "DBA on call"
name = "Wei"
phone = "+86-10-5550-0101"
chat = "wechat:wei-dba"
order = 2
escalate = ["failed"]

[[contacts]]
role = "Tech lead"
name = "Ada"
phone = "+1-555-0100"
chat = "@ada"
order = 1
escalate = ["failed", "overdue"]

[[contacts]]
role = "Product owner"
name = "Bo"
email = "bo@example.com"
"""


@pytest.fixture
def runbook(tmp_path: Path) -> Path:
    path = tmp_path / "tui_branching.toml"
    path.write_text(RUNBOOK_TEXT, encoding="utf-8")
    return path


async def to_plan(app: RbConsoleApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("enter")  # overview → incident start
    await pilot.pause()
    await pilot.press(*"db down", "ctrl+s")
    await settle(app, pilot)
    await pilot.press("enter")  # pre-checks → plan
    await settle(app, pilot)
    assert isinstance(app.screen, PlanScreen)


def modal_text(app: RbConsoleApp) -> str:
    assert isinstance(app.screen, ChoiceScreen)
    return "\n".join(str(s.render()) for s in app.screen.query(Static))


def options(app: RbConsoleApp) -> list[str]:
    listing = app.screen.query_one(OptionList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def test_the_optional_step_is_asked_with_its_text_and_skip_comes_first(runbook: Path) -> None:
    app = make_app(runbook, plan="A")
    async with app.run_test(size=(100, 30)) as pilot:
        await to_plan(app, pilot)
        await pilot.press("enter")  # script
        await settle(app, pilot)
        await pilot.press("enter")  # the optional step: asked, never run on a stray enter
        await pilot.pause()
        text = modal_text(app)
        assert "restart_mongo: Restart MongoDB" in text
        assert "Run this optional step? Restart MongoDB if necessary (the document: 必要时重启 MongoDB)" in text
        assert options(app) == ["Skip the step", "Run this optional step"]
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert app.session is not None
        assert app.session.state.action("step", "restart_mongo").status == "ok"  # type: ignore[union-attr]
        decided = [c for c in app.session.state.confirmations if c["id"] == "restart_mongo"]
        assert [(c["question"], c["answer"], c["by"]) for c in decided] == [("optional", "run", "operator")]


async def test_escape_skips_the_optional_step_and_says_who_decided(runbook: Path) -> None:
    app = make_app(runbook, plan="A")
    async with app.run_test(size=(80, 24)) as pilot:
        await to_plan(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.session is not None
        action = app.session.state.action("step", "restart_mongo")
        assert action is not None and action.status == "skipped"
        assert action.skip_reason == "optional, the operator chose to skip it"


async def test_a_failed_step_brings_up_whom_to_call_next_in_order(runbook: Path) -> None:
    app = make_app(runbook, plan="A", values={"script": "broken"})
    async with app.run_test(size=(100, 30)) as pilot:
        await to_plan(app, pilot)
        await pilot.press("enter")  # script: fails
        await settle(app, pilot)
        text = modal_text(app)
        assert "Escalate now: step script failed" in text
        assert "1. Tech lead Ada (+1-555-0100, @ada)" in text
        assert "2. DBA on call Wei (+86-10-5550-0101, wechat:wei-dba)" in text
        assert "Product owner" not in text  # not an escalation contact
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PlanScreen)
        assert app.session is not None
        due = [e.data for e in app.session.events if e.type == ev.ESCALATION_DUE]
        assert [(d["reason"], [c["name"] for c in d["contacts"]]) for d in due] == [("failed", ["Ada", "Wei"])]
