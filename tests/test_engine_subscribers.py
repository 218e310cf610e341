"""A subscriber (the console, the printer) that raises loses only its own view: the error is
logged with its traceback, the other subscribers and the journal still get every event, and
the session goes on (the event is on disk already; a broken view must not stop a rollback)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tui.engine import events as ev
from tui.engine.events import Event
from tui.engine.journal import JOURNAL_NAME, read_events
from tui.engine.session import Session, StartOptions
from tui.runbook.loader import load_or_raise

RUNBOOK = """schema = 1
id = "subs"
title = "a view that breaks"
service = "svc"

[plans.A]
title = "two steps and an output line"
[[plans.A.steps]]
id = "say"
kind = "local"
run = "echo from-the-step"
[[plans.A.steps]]
id = "again"
kind = "local"
run = "true"
"""


class Boom(RuntimeError):
    pass


async def test_a_failing_subscriber_is_logged_with_its_traceback_and_the_session_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "subs.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    session = Session.start(load_or_raise(path), str(path), StartOptions(yes=True))
    calls: list[str] = []

    def broken(event: Event) -> None:
        calls.append(event.type)
        raise Boom(f"the view cannot show {event.type}")

    seen: list[Event] = []
    session.subscribe(broken)
    session.subscribe(seen.append)
    with caplog.at_level(logging.ERROR, logger="tui.engine"):
        await session.choose_plan("A")
        assert await session.run_plan()
        assert await session.end() == "success"
    await session.close()

    assert [e.type for e in seen] == calls, "the next subscriber got every event the broken one was given"
    assert ev.OUTPUT in calls, "transient output too"
    journaled = [e.type for e in read_events(session.dir / JOURNAL_NAME)]
    assert journaled[-1] == ev.SESSION_ENDED and [t for t in calls if t != ev.OUTPUT] == journaled[1:]
    failures = [r for r in caplog.records if r.name.startswith("tui.engine") and r.exc_info]
    assert len(failures) == len(calls), "one log record per failed delivery"
    first = failures[0]
    assert first.levelno == logging.ERROR and first.exc_info is not None and first.exc_info[0] is Boom
    assert session.id in first.getMessage() and ev.PLAN_CHOSEN in first.getMessage()
    assert "the view cannot show plan_chosen" in caplog.text and "Traceback" in caplog.text
