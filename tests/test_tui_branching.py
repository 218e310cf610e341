"""The console's side of branching: the optional-step question and the escalation prompt."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import DataTable, OptionList, Static

from screens.plan import PlanScreen
from screens.question import ChoiceScreen
from tests.tui_helpers import make_app, settle
from tui.app import RbConsoleApp
from tui.engine import events as ev
from tui.engine.api import StartOptions
from tui.engine.session import Session
from tui.record.build import build as build_record
from tui.runbook.loader import load
from tui.widgets.runbook_tables import contacts_table

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

[[plans.A.steps]]
id = "by_hand"
title = "Restore by hand"
kind = "manual"
instruction = "Copy the backup directory back by hand."
when = "steps.script.failed"

[plans.late]
title = "Overdue at once"
target_minutes = 0.01

[[plans.late.steps]]
id = "noop"
title = "Nothing yet"
kind = "local"
run = "true"

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


async def modal_text(app: RbConsoleApp, pilot) -> str:  # type: ignore[no-untyped-def]
    """The dialog's words, once its text (which scrolls in its own container) is laid out."""
    assert isinstance(app.screen, ChoiceScreen)
    for _ in range(40):
        statics = list(app.screen.query(Static))
        if len(statics) > 1:
            break
        await pilot.pause(0.05)
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
        text = await modal_text(app, pilot)
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
        text = await modal_text(app, pilot)
        assert "Escalate now: step script failed" in text
        assert "1. Tech lead Ada (+1-555-0100, @ada)" in text
        assert "2. DBA on call Wei (+86-10-5550-0101, wechat:wei-dba)" in text
        assert "Product owner" not in text  # not an escalation contact
        assert options(app) == ["Calling now", "Not now"]
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)
        assert app.session is not None
        due = [e.data for e in app.session.events if e.type == ev.ESCALATION_DUE]
        assert [(d["reason"], [c["name"] for c in d["contacts"]]) for d in due] == [("failed", ["Ada", "Wei"])]
        answered = [e.data for e in app.session.events if e.type == ev.ESCALATION_ANSWERED]
        assert answered == [{"reason": "failed", "answer": "calling", "by": app.session.state.meta["operator"]}]
        timeline = [line["text"] for line in build_record(app.session.events)["timeline"]]
        assert f"escalation (failed): the operator is calling ({app.session.state.meta['operator']})" in timeline


async def test_dismissing_the_escalation_never_claims_a_call(runbook: Path) -> None:
    app = make_app(runbook, plan="A", values={"script": "broken"}, operator="kim")
    async with app.run_test(size=(80, 24)) as pilot:
        await to_plan(app, pilot)
        await pilot.press("enter")  # script: fails
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.session is not None
        answered = [e.data for e in app.session.events if e.type == ev.ESCALATION_ANSWERED]
        assert answered == [{"reason": "failed", "answer": "not_now", "by": "kim"}]
        timeline = [line["text"] for line in build_record(app.session.events)["timeline"]]
        assert "escalation (failed): not called yet (kim)" in timeline


async def test_the_plan_table_marks_conditional_and_optional_steps_before_they_are_reached(runbook: Path) -> None:
    app = make_app(runbook, plan="A")
    async with app.run_test(size=(80, 24)) as pilot:
        await to_plan(app, pilot)
        table = app.screen.query_one("#steps", DataTable)
        titles = [str(table.get_row_at(i)[3]) for i in range(table.row_count)]
        assert titles == ["Run the restore script", "[optional] Restart MongoDB", "[if] Restore by hand"]
        await pilot.press("enter")  # script: works
        await settle(app, pilot)
        status = str(app.screen.query_one("#plan-status", Static).render())
        assert status == "1 of 3 steps done · enter runs restart_mongo (optional: asks first)"
        await pilot.press("enter", "escape")  # skip the optional step
        await settle(app, pilot)
        status = str(app.screen.query_one("#plan-status", Static).render())
        assert status == "2 of 3 steps done · enter runs by_hand only if steps.script.failed"


def test_the_contacts_table_lists_escalation_order_chat_and_when_to_call(runbook: Path) -> None:
    loaded = load(runbook)
    assert loaded.runbook is not None
    console = Console(width=120, record=True)
    console.print(contacts_table(loaded.runbook))
    rows = [line.replace("┃", "│") for line in console.export_text().splitlines() if line[:1] in "┃│"]
    cells = [[c.strip() for c in row.split("│")[1:-1]] for row in rows]
    assert cells[0] == ["#", "Role", "Name", "Phone", "Chat", "Email", "Call when"]  # nobody has a duty
    assert cells[1] == ["1", "Tech lead", "Ada", "+1-555-0100", "@ada", "", "a step fails, plan overdue"]
    assert cells[2] == ["2", "DBA on call", "Wei", "+86-10-5550-0101", "wechat:wei-dba", "", "a step fails"]
    assert cells[3] == ["", "Product owner", "Bo", "", "", "bo@example.com", ""]


async def test_a_resumed_console_escalates_when_the_plan_goes_overdue(runbook: Path) -> None:
    loaded = load(runbook)
    assert loaded.runbook is not None

    async def choose_and_stop() -> str:
        session = Session.start(loaded.runbook, str(runbook), StartOptions(reason="db", headless=True))
        await session.choose_plan("late")
        await session.close()  # stopped before the plan's target passed: nothing escalated yet
        return session.id

    session_id = await choose_and_stop()
    again = make_app(None, resume=session_id, operator="lee")
    async with again.run_test(size=(80, 24)) as pilot:
        for _ in range(100):  # the target (0.6 s after the plan's choice) passes while resumed
            await pilot.pause(0.05)
            if isinstance(again.screen, ChoiceScreen):
                break
        assert "Escalate now: plan late passed its target of 0.01 min" in await modal_text(again, pilot)
        await pilot.press("enter")
        await settle(again, pilot)
        assert again.session is not None
        answered = [e.data for e in again.session.events if e.type == ev.ESCALATION_ANSWERED]
        assert answered == [{"reason": "overdue", "answer": "calling", "by": "lee"}]
        await again.session.note("called Ada")  # whoever resumed acts now, not who started
        assert again.session.state.notes[-1]["by"] == "lee"


async def test_an_escalation_left_unanswered_is_shown_again_on_resume(runbook: Path) -> None:
    app = make_app(runbook, plan="A", values={"script": "broken"})
    async with app.run_test(size=(80, 24)) as pilot:
        await to_plan(app, pilot)
        await pilot.press("enter")  # script: fails, the escalation shows
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert app.session is not None
        session_id = app.session.id
    again = make_app(None, resume=session_id, operator="lee")
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        assert "Escalate now: step script failed" in await modal_text(again, pilot)
