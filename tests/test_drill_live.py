"""The console's scenario guard: setup once, teardown exactly once, also after an abort or a cancel."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.test_drill_demo import (
    finished,
    free_port,
    get_json,
    no_leftover_service,  # noqa: F401 (autouse: no demo-web outlives a test)
    port_closed,
)
from tests.test_drill_teardown import RUNBOOK
from tui.drill.live import ScenarioGuard
from tui.drill.report import render_report
from tui.drill.summary import summarise
from tui.engine.session import Session, StartOptions
from tui.runbook.loader import load_text


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator:
    opened: list[Session] = []

    def make(port: int, *, mode: str = "drill", **values: str) -> Session:
        loaded = load_text(RUNBOOK, str(tmp_path / "paired.toml"))
        assert loaded.runbook is not None
        given = {"sandbox": str(tmp_path / "sb"), "port": str(port), "python": sys.executable, **values}
        options = StartOptions(mode=mode, yes=True, plan="A", scenario="s" if mode == "drill" else None, values=given)
        session = Session.start(loaded.runbook, str(tmp_path / "paired.toml"), options)
        opened.append(session)
        return session

    yield make
    for session in opened:
        await session.close()


async def test_setup_then_teardown_once(start, tmp_path: Path) -> None:
    port = free_port()
    session = start(port)
    guard = ScenarioGuard.for_session(session)
    assert await guard.setup() is True
    assert await guard.setup() is True, "a second call does nothing"
    assert get_json(port, "/version")["version"] == "v2"
    assert guard.pending_teardown
    first, again = await guard.teardown(), await guard.teardown()
    assert first == again and [r.status for r in first] == ["ok"]
    assert [e.data["id"] for e in session.events if e.type == "step_finished" and e.data["phase"] == "setup"] == [
        "make",
        "up",
    ]
    teardowns = [e for e in session.events if e.type == "step_finished" and e.data["phase"] == "teardown"]
    assert len(teardowns) == 1
    assert not (tmp_path / "sb").exists() and port_closed(port)


async def test_failed_setup_is_still_torn_down(start, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        session = start(taken.getsockname()[1])
        guard = ScenarioGuard.for_session(session)
        assert await guard.setup() is False
    assert (tmp_path / "sb").exists(), "setup got half-way: the sandbox exists"
    assert finished(list(session.events), "teardown") == {}
    await guard.teardown()
    assert finished(list(session.events), "teardown")["remove"]["status"] == "ok"
    assert not (tmp_path / "sb").exists()


async def test_teardown_after_abort_and_through_a_cancelled_caller(start, tmp_path: Path) -> None:
    port = free_port()
    session = start(port, fail="0")
    guard = ScenarioGuard.for_session(session)
    await guard.setup()
    await session.choose_plan("A")
    hanging = asyncio.Event()
    # The command's own output, not step_started: abort it while it really runs.
    session.subscribe(lambda e: hanging.set() if e.type == "output" and "hanging now" in e.data["text"] else None)
    plan = asyncio.ensure_future(session.run_plan())
    await asyncio.wait_for(hanging.wait(), 30)
    session.abort("drill aborted by the test")
    assert await asyncio.wait_for(plan, 30) is False
    assert finished(list(session.events), "step")["hangs"]["status"] == "aborted"

    caller = asyncio.ensure_future(guard.teardown())
    await asyncio.sleep(0)
    caller.cancel()  # the operator quits while the teardown runs: it must still finish
    results = await asyncio.wait_for(guard.teardown(), 60)
    assert [r.status for r in results] == ["ok"]
    assert not (tmp_path / "sb").exists() and port_closed(port)


async def test_live_sessions_have_nothing_to_pair(start, tmp_path: Path) -> None:
    session = start(free_port(), mode="live")
    guard = ScenarioGuard.for_session(session)
    assert guard.scenario is None
    assert await guard.setup() is True and await guard.teardown() == []
    assert not (tmp_path / "sb").exists()


async def test_skipped_steps_and_the_operator_pace_reach_the_report(start) -> None:
    session = start(free_port(), fail="0")
    await session.choose_plan("A")
    await session.skip_step("answer", "no service in this rehearsal")
    assert (await session.run_step("breaks")).ok
    await session.skip_step("hangs", "would hang")
    await session.end()
    run = summarise(list(session.events), 1.0, session.runbook.plans["A"].steps)
    assert [(s.id, s.status, s.attempts) for s in run.steps] == [
        ("answer", "skipped", 0),
        ("breaks", "ok", 1),
        ("hangs", "skipped", 0),
    ]
    assert run.result == "partial" and run.target_minutes == 1.0
    report = render_report(run)
    assert "- skipped: `answer` (no service in this rehearsal)" in report
    assert "- skipped: `hangs` (would hang)" in report
    assert "| Result | partial |" in report
