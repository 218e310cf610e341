"""``rbconsole resume ID`` in the console after a ``kill -9`` mid-step: the step reads "outcome
unknown" (never "running"), and the console asks the four questions headless resume asks
before anything else can run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from textual.widgets import DataTable, OptionList

from screens.plan import PlanScreen
from screens.question import ChoiceScreen
from tests.tui_helpers import make_app, settle
from tui.engine import events as ev
from tui.engine.journal import JOURNAL_NAME, read_events
from tui.engine.session import SessionError

TRUTH = Path(__file__).parent / "data" / "truth" / "truth.toml"


def killed_mid_stream(home: Path, scratch: Path) -> str:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", str(TRUTH), "--plan", "A", "--yes",
         "--var", f"dir={scratch}", "--var", "lines=100000"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, "RBCONSOLE_HOME": str(home)},
    )  # fmt: skip
    assert proc.stdout is not None
    for _ in range(2000):  # bounded: a line every 20 ms
        if proc.stdout.readline().startswith("[local] line-2"):
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    (session,) = (home / "sessions").iterdir()
    return session.name


async def test_console_resume_asks_about_the_lost_step_before_anything_runs(
    rbconsole_home: Path, tmp_path: Path
) -> None:
    session_id = killed_mid_stream(rbconsole_home, tmp_path)
    app = make_app(None, resume=session_id, operator="bo")
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if isinstance(app.screen, ChoiceScreen):
                break
        assert isinstance(app.screen, ChoiceScreen), "the console asked nothing"
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels == ["Run it again", "It finished: mark it done", "It failed: mark it failed", "Skip the step"]
        for _ in range(40):  # the dialog's text scrolls in its own container, laid out a frame later
            shown = " ".join(str(w.render()) for w in app.screen.query("Static"))
            if "outcome is unknown" in shown:
                break
            await pilot.pause(0.05)
        assert "outcome is unknown" in shown
        session = app.session
        assert session is not None and session.unknown_steps() == ["stream"]
        try:  # nothing else runs while it is unanswered
            await session.verify()
        except SessionError as exc:
            assert "step stream has an unknown outcome" in str(exc)
        else:
            raise AssertionError("verification ran past a step with an unknown outcome")
        await pilot.press("escape")  # no answer is not "skip": it stays unknown
        await settle(app, pilot)
        assert session.unknown_steps() == ["stream"]
        assert isinstance(app.screen, PlanScreen)
        table = app.screen.query_one("#steps", DataTable)
        shown = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert shown[2] == "? outcome unknown" and not any("running" in s for s in shown)
        await pilot.press("enter")  # run: it asks again, first
        await pilot.pause(0.3)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "down", "enter")  # it failed
        await settle(app, pilot)
        assert session.unknown_steps() == []
    events = read_events(rbconsole_home / "sessions" / session_id / JOURNAL_NAME)
    resolved = [e.data for e in events if e.type == ev.STEP_RESOLVED]
    assert [(r["id"], r["answer"], r["by"]) for r in resolved] == [("stream", "failed", "operator")]
    asked = [e.data for e in events if e.type == ev.CONFIRMATION and e.data["question"] == "unknown"]
    assert [a["answer"] for a in asked] == [None, "failed"]
    assert not [e for e in events if e.type == ev.STEP_STARTED and e.data["id"] == "stream" and e.data["attempt"] > 1]
