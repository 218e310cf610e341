"""A runbook with a dozen live monitors (seed 003 has eleven) keeps the triage question and its
answers on an 80x24 screen: the monitors scroll in a few lines, the verdict on top."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from screens.triage import TriageScreen
from tests.tui_helpers import make_app, screen_lines, settle

MONITORS = "\n".join(
    f"""[[monitors]]
id = "m{n}"
title = "monitor {n} with a title long enough to wrap on an eighty column screen"
kind = "prometheus"
url = "http://127.0.0.1:9"
query = "up"
condition = "> 0.5"
severity = "P0"
"""
    for n in range(12)
)
RUNBOOK = f"""schema = 1
id = "many-monitors"
title = "many monitors"
service = "many"

[params.reason]
prompt = "What went wrong?"
required = true

[[severity]]
level = "P0"
name = "outage"
conditions = ["everything is down"]
plan = "A"

{MONITORS}
[flow]
start = "level"
[flow.nodes.level]
text = "Classify"
ask = "Which one is it?"
options = [ {{ label = "first answer", next = "roll" }}, {{ label = "second answer", next = "roll" }} ]
[flow.nodes.roll]
text = "Roll back"
plan = "A"

[plans.A]
title = "Roll back"

[[plans.A.steps]]
id = "one"
title = "one"
kind = "local"
run = "true"
"""


async def test_the_answers_stay_on_screen_under_a_dozen_monitors(tmp_path: Path, rbconsole_home: Path) -> None:
    path = tmp_path / "many.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")  # the incident form
        await pilot.pause()
        await pilot.press(*"down", "ctrl+s")
        await settle(app, pilot)
        for _ in range(100):
            if isinstance(app.screen, TriageScreen) and "no monitor fires" in "\n".join(screen_lines(app)):
                break
            await pilot.pause(0.05)
        rows = screen_lines(app)
        assert any("no monitor fires (12 of 12 not read) · severity: not set" in row for row in rows)
        assert any("first answer" in row for row in rows) and any("second answer" in row for row in rows)
        answers = app.screen.query_one(OptionList)
        assert answers.region.bottom <= 23 and answers.region.height >= 2
        await pilot.press("enter")  # the answer, then the plan it leads to
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.session is not None and app.session.state.plan == "A"
