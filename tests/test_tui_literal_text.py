"""Runbook text is shown as written on every screen: never read as Textual/Rich markup.

A title such as "Run [docker] prune" lost its "[docker]" and a stray "[/x]" crashed the console
with a traceback (a DataTable and a Rich table read str cells as markup)."""

from __future__ import annotations

from pathlib import Path

import pytest

from screens.plan import PlanScreen
from screens.question import ChoiceScreen
from tests.tui_helpers import close_modals, make_app, screen_lines, settle

RUNBOOK = """schema = 1
id = "markup-literal"
title = "Titles [bold]that look[/bold] like markup [/x]"
service = "svc [red]"

[params.reason]
prompt = "Why [/] it broke"
required = true

[[checks]]
id = "echo"
title = "Shell [link=http://x]answers[/link] [/oops]"
kind = "local"
run = "echo '[bold]out[/bold] [/z]'"

[checklists]
pre = ["check [/nope] first", "[if] literal"]

[plans.A]
title = "Restore [b]now[/b] [/c]"
target_minutes = 10

[[plans.A.steps]]
id = "s1"
title = "Run [docker] prune [/q]"
kind = "local"
run = "echo '[/w] hi'; exit 3"

[flow]
start = "found"
[flow.nodes.found]
text = "Problem [/f] found"
ask = "How bad [b]is it?"
options = [ { label = "[/o] outage", next = "roll" }, { label = "[i] minor", next = "roll" } ]
[flow.nodes.roll]
text = "Roll [back]"
plan = "A"

[[contacts]]
role = "DBA [/r]"
name = "Wei [b]"
duty = "[/d] duty"
order = 1
escalate = ["failed"]

[[templates]]
id = "t"
title = "Tpl [/t]"
body = "Body [/u] {{ reason }}"
"""


@pytest.fixture
def runbook(tmp_path: Path) -> Path:
    path = tmp_path / "markup.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    return path


def shown(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(screen_lines(app))


async def test_every_screen_shows_runbook_text_as_written(runbook: Path) -> None:
    app = make_app(runbook)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        text = shown(app)
        for literal in ("Titles [bold]that look[/bold] like markup [/x]", "Restore [b]now[/b] [/c]", "DBA [/r]"):
            assert literal in text
        await pilot.press("c")
        await pilot.pause()
        text = shown(app)
        assert "Wei [b]" in text and "[/d] duty" in text and "Tpl [/t]" in text and "Body [/u]" in text
        await pilot.press("escape", "enter")  # the incident form
        await pilot.pause()
        assert "Why [/] it broke" in shown(app)
        await pilot.press(*"x [/y] z", "ctrl+s")
        await settle(app, pilot)
        text = shown(app)  # triage: the question, its answers
        assert "How bad [b]is it?" in text and "1. [/o] outage" in text and "2. [i] minor" in text
        await pilot.press("enter")
        await settle(app, pilot)
        assert "plan A: Restore [b]now[/b] [/c]" in shown(app)
        await pilot.press("enter")
        await settle(app, pilot)
        text = shown(app)
        assert "Shell [link=http://x]answers[/link] [/oops]" in text
        assert "[bold]out[/bold] [/z]" in text  # the check's output in its detail
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)
        assert "Run [docker] prune [/q]" in shown(app)
        await pilot.press("enter")  # s1 fails: whom to call
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert "DBA [/r] Wei [b]" in shown(app) and "[/d] duty" in shown(app)
        await close_modals(app, pilot)
        assert "[/w] hi" in shown(app)  # the step's output
        await pilot.press("slash", *"[/nothing]", "enter")  # searched for, not found: said as typed
        await pilot.pause(0.3)
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("'[/nothing]' is not in the last") for m in messages), messages
        assert all(not n.markup for n in app._notifications)  # shown as typed, and no MarkupError
        await pilot.press("escape")
        await pilot.press("f5")
        await settle(app, pilot)
        assert "check [/nope] first" in shown(app) and "[if] literal" in shown(app)
        await pilot.press("f6")
        await settle(app, pilot)
        assert "x [/y] z" in shown(app)  # the reason, in the timeline
        await pilot.press("f7")
        await settle(app, pilot)
        await pilot.pause(0.5)  # the record's Markdown is laid out after it mounts
        assert "A — Restore [b]now[/b] [/c]" in shown(app)
        assert "reason=x [/y] z" in shown(app)
