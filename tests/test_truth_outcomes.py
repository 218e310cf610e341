"""What a session says it did is what it did: dry runs, end states, plan vs session time,
checklists ticked by results from after the plan. Real ``rbconsole`` processes where the
operator would use one; the engine directly where a clock or an abort has to be placed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

from tui.drill.format import against_target
from tui.engine import events as ev
from tui.engine import store
from tui.engine.journal import JOURNAL_NAME, read_events
from tui.engine.session import Session, StartOptions
from tui.record import build, render_markdown
from tui.runbook.loader import load

DATA = Path(__file__).parent / "data"
TRUTH = DATA / "truth" / "truth.toml"


def rb(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, env={**os.environ, **env},
    )  # fmt: skip


def newest(home: Path) -> str:
    """The session started last (ids have whole seconds only: several runs fit in one)."""
    return store.list_sessions()[-1].id


def cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def start(tmp_path: Path, **options: object) -> Session:
    loaded = load(TRUTH)
    assert loaded.runbook is not None
    values = {"dir": str(tmp_path), "lines": "3", **dict(options.pop("values", {}))}  # type: ignore[call-overload]
    return Session.start(loaded.runbook, str(TRUTH), StartOptions(values=values, yes=True, **options))  # type: ignore[arg-type]


def test_a_dry_run_is_a_dry_run_everywhere_and_still_exits_0(rbconsole_home: Path, tmp_path: Path) -> None:
    record = tmp_path / "r.md"
    done = rb("run", str(TRUTH), "--plan", "A", "--dry-run", "--var", f"dir={tmp_path}", "--record", str(record))
    assert done.returncode == 0, done.stderr  # CI: the walk found no problem
    assert "[DRY RUN]" in done.stdout.splitlines()[0]
    assert "== result: DRY RUN — walked 3 steps and 1 verification, nothing executed" in done.stdout
    assert "SUCCESS" not in done.stdout
    assert not (tmp_path / "wipe.trace").exists()
    session = newest(rbconsole_home)
    md = rb("export", session).stdout
    assert md == record.read_text(encoding="utf-8")
    assert "| 模式 · Mode | DRY RUN 空跑 |" in md and "LIVE" not in md
    assert "- [x] 🔍 空跑 · DRY RUN" in md and "[x] ✅" not in md and "回滚成功" not in md
    data = json.loads(rb("export", session, "--format", "json").stdout)
    assert (data["result"], data["result_label"], data["basic"]["mode_label"]) == ("dry_run", "dry run", "DRY RUN")
    assert data["final"] is True and data["notice"] == ""
    listed = rb("sessions").stdout.splitlines()
    assert listed[1].startswith(session) and " dry run " in listed[1]


def test_a_dry_run_drill_reads_drill_dry_run(tmp_path: Path) -> None:
    session = start(tmp_path, dry_run=True, mode="drill")
    assert build(session.events)["basic"]["mode_label"] == "DRILL DRY RUN"
    asyncio.run(session.close())


def test_every_end_state_is_its_own_in_sessions_at_80_columns(rbconsole_home: Path, tmp_path: Path) -> None:
    var = f"dir={tmp_path}"
    assert rb("run", str(TRUTH), "--plan", "A", "--yes", "--var", var).returncode == 0
    assert rb("run", str(TRUTH), "--plan", "A", "--yes", "--var", "dir=/nonexistent/x").returncode == 1
    assert rb("run", str(TRUTH), "--plan", "A", "--dry-run", "--var", var).returncode == 0
    killed = {}
    for sig, name in ((signal.SIGKILL, "interrupted"), (signal.SIGTERM, "aborted")):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tui", "run", str(TRUTH), "--plan", "A", "--yes", "--var", var,
             "--var", "lines=100000", "--operator", "a-very-long-operator-name-indeed"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        for _ in range(2000):  # bounded: the stream step prints a line every 20 ms
            if "[local] line-3" in proc.stdout.readline():
                break
        proc.send_signal(sig)
        assert proc.wait(timeout=30) in (-9, 1)
        killed[name] = newest(rbconsole_home)
    lines = rb("sessions", COLUMNS="80").stdout.splitlines()
    assert len(lines) == 6
    assert all(cells(line) <= 80 for line in lines), lines
    states = [" ".join(line.split()[3:5]) if "dry run" in line else line.split()[3] for line in lines[1:]]
    assert states == ["success", "failed", "dry run", "interrupted", "aborted"]
    journal = read_events(rbconsole_home / "sessions" / killed["aborted"] / JOURNAL_NAME)
    assert journal[-1].type == ev.SESSION_ENDED and journal[-1].data["result"] == "aborted"


def test_an_export_of_an_unended_session_says_in_progress_at_the_top(rbconsole_home: Path, tmp_path: Path) -> None:
    session = start(tmp_path)

    async def halfway() -> None:
        await session.choose_plan("A")
        await session.run_checks()
        await session.run_step("announce")

    asyncio.run(halfway())
    shown = session.id
    md = rb("export", shown).stdout  # the lock is held: the session is running
    assert md.startswith("> **IN PROGRESS — not a final record** — the session is running")
    assert "- [x] ⏳ 进行中 · in progress" in md and "- [ ] ✅ 回滚成功 · success" in md
    data = json.loads(rb("export", shown, "--format", "json").stdout)
    assert list(data)[:2] == ["final", "notice"]
    assert (data["final"], data["notice"], data["result"]) == (False, "IN PROGRESS — not a final record", "running")
    asyncio.run(session.close())
    md = rb("export", shown).stdout  # nobody holds it now: interrupted
    assert md.startswith("> **IN PROGRESS — not a final record** — the session is interrupted")


def test_the_record_times_the_plan_apart_from_the_session(rbconsole_home: Path, tmp_path: Path) -> None:
    session = start(tmp_path)

    async def slow_start() -> None:
        await asyncio.sleep(1.5)  # the operator reads, fills the form, triages
        await session.choose_plan("A")
        await session.run_checks()
        await asyncio.sleep(0.5)
        await session.run_plan()
        await session.verify()
        assert await session.end() == "success"
        await session.close()

    asyncio.run(slow_start())
    record = build(session.events)
    plan_seconds, whole = record["basic"]["plan_seconds"], record["basic"]["duration"]
    assert plan_seconds is not None and 0 < plan_seconds < 1.4 < 2.0 <= whole
    steps = [e for e in session.events if e.type == ev.STEP_STARTED]
    last_verify = [e for e in session.events if e.type == ev.CHECK_FINISHED and e.data["phase"] == "verify"][-1]
    assert abs(plan_seconds - (last_verify.ts - steps[0].ts)) < 1e-6
    ended = session.events[-1]
    assert ended.data["plan_seconds"] == round(plan_seconds, 3)
    text = render_markdown(session.events)
    assert "| 方案耗时 · Plan time | " in text and "(target 1 min, within target) |" in text
    assert "| 会话耗时 · Session time | 2." in text  # forms and triage are the session's, not the plan's


def test_a_plan_that_failed_met_no_target(tmp_path: Path) -> None:
    session = start(tmp_path, values={"dir": "/nonexistent/x"})

    async def fail() -> None:
        await session.choose_plan("A")
        await session.run_plan()
        assert await session.end() == "failed"
        await session.close()

    asyncio.run(fail())
    text = render_markdown(session.events)
    assert "the plan did not succeed, so no time was met" in text and "within target" not in text
    assert "within target" not in against_target(5, 1, "failed")
    assert against_target(5, 1, "failed") == "5.0s of 1m00s target (8%; failed, so no target was met)"


def test_an_aborted_step_lasted_until_the_abort(tmp_path: Path) -> None:
    session = start(tmp_path, values={"lines": "100000"})

    async def abort_it() -> float:
        await session.choose_plan("A")
        await session.run_step("announce")
        task = asyncio.ensure_future(session.run_step("stream"))
        await asyncio.sleep(1.2)
        session.abort("operator")
        result = await asyncio.wait_for(task, 20)
        assert result.status == "aborted"
        await session.close()
        return result.duration

    took = asyncio.run(abort_it())
    finished = [e for e in session.events if e.type == ev.STEP_FINISHED and e.data["id"] == "stream"][-1]
    assert took >= 1.0  # aborted 1.2 s in: it lasted until the abort, not 0.0 s
    assert took < 10  # and the abort ended it, rather than the stream running out
    assert finished.data["duration"] == round(took, 3)  # the journal says the same


def test_post_items_are_ticked_only_by_results_from_after_the_plan(tmp_path: Path) -> None:
    session = start(tmp_path)

    async def walk() -> None:
        await session.choose_plan("A")
        await session.run_checks()
        assert session.state.ticks[("pre", 0)]["ticked"] is True
        assert ("post", 0) not in session.state.ticks  # the pre-rollback run says nothing about after it
        await session.run_plan()
        assert ("post", 1) not in session.state.ticks
        await session.verify()
        assert session.state.ticks[("post", 1)] | {"ts": 0} == {
            "list": "post", "index": 1, "text": "Wipe verified", "ticked": True, "by": "check:trace", "ts": 0,
        }  # fmt: skip
        assert ("post", 0) not in session.state.ticks
        await session.run_checks(["alive"])  # run again after the plan: now it counts
        assert session.state.ticks[("post", 0)]["ticked"] is True
        await session.end()
        await session.close()

    asyncio.run(walk())
    lists = build(session.events)["checklists"]
    assert [i["ticked"] for i in lists["post"]] == [True, True]


def test_the_console_abort_and_quit_ends_aborted(tmp_path: Path) -> None:
    from tests.tui_helpers import make_app, settle

    async def drive() -> Session:
        app = make_app(TRUTH, operator="ana", values={"dir": str(tmp_path), "lines": "100000"}, plan="A")
        async with app.run_test(size=(120, 40)) as pilot:
            app.start_session(StartOptions(values={"dir": str(tmp_path), "lines": "100000"}, plan="A", reason="x"))
            await settle(app, pilot)
            assert app.session is not None
            for _ in range(100):  # the blocking pre-check holds the step until it has passed
                alive = app.session.state.action("pre", "alive")
                if alive is not None and alive.done:
                    break
                await pilot.pause(0.05)
            app.engine(app.session.run_step("stream"), "run", group="step")
            for _ in range(100):
                await pilot.pause(0.05)
                if app.session.state.action("step", "stream"):
                    break
            await pilot.press("q")
            await pilot.pause()
            await pilot.press("down", "enter")  # "Yes": abort it and quit
            for _ in range(200):
                await pilot.pause(0.05)
                if app.session.state.result:
                    break
            return app.session

    session = asyncio.run(drive())
    journal = read_events(session.dir / JOURNAL_NAME)
    assert journal[-1].type == ev.SESSION_ENDED and journal[-1].data["result"] == "aborted"
    assert time.time() - journal[-1].ts < 60


def test_a_failed_blocking_check_says_why_and_override_goes_past_it(rbconsole_home: Path, tmp_path: Path) -> None:
    gone = str(tmp_path / "gone")  # the pre-check `test -d DIR` fails
    done = rb("run", str(TRUTH), "--plan", "A", "--yes", "--var", f"dir={gone}")
    assert done.returncode == 1
    assert "rbconsole: blocking pre-check alive failed: exit status 1" in done.stderr.splitlines()
    assert "rbconsole: to go on anyway: --override alive=REASON" in done.stderr.splitlines()
    bad = rb("run", str(TRUTH), "--plan", "A", "--yes", "--var", f"dir={gone}", "--override", "nope=x")
    assert bad.returncode == 2 and bad.stderr.strip().endswith(
        "--override nope: no pre-check 'nope' (pre-checks: alive)"
    )
    empty = rb("run", str(TRUTH), "--plan", "A", "--override", "alive=")
    assert empty.returncode == 2 and "write it as CHECK_ID=REASON" in empty.stderr
    record = tmp_path / "r.md"
    # The check fails (no such dir) and is overridden; the first step makes nothing of it.
    over = rb("run", str(TRUTH), "--plan", "A", "--yes", "--operator", "ana", "--var", f"dir={tmp_path}",
              "--var", "lines=1", "--override", "alive=checked by hand | pipe", "--record", str(record))  # fmt: skip
    assert over.returncode == 0, over.stderr  # it passed: nothing to override, nothing journaled
    assert "overridden" not in record.read_text(encoding="utf-8")
    target = tmp_path / "sub"
    over = rb("run", str(TRUTH), "--plan", "A", "--yes", "--operator", "ana", "--var", f"dir={target}",
              "--override", "alive=checked by hand | pipe", "--record", str(record))  # fmt: skip
    assert "! alive overridden: checked by hand | pipe" in over.stdout
    assert "blocking pre-check alive" not in over.stderr  # it went on: the steps ran (and failed: no dir)
    events = read_events(rbconsole_home / "sessions" / newest(rbconsole_home) / JOURNAL_NAME)
    (overridden,) = [e.data for e in events if e.type == ev.CHECK_OVERRIDDEN]
    assert overridden == {"id": "alive", "phase": "pre", "reason": "checked by hand | pipe", "by": "ana"}
    assert any(e.type == ev.STEP_STARTED for e in events)
    assert "- overridden **alive** by ana: checked by hand | pipe" in record.read_text(encoding="utf-8")


def test_a_plan_records_the_version_it_leaves_and_the_one_seen_running(tmp_path: Path) -> None:
    text = (
        TRUTH.read_text(encoding="utf-8")
        .replace("target_minutes = 1\n", 'target_minutes = 1\ntarget_version = "v5.1.0-flags-off"\n', 1)
        .replace(
            'run = "test -s {{ dir }}/wipe.trace"',
            'run = "test -s {{ dir }}/wipe.trace && echo {{ target_version }}"\ncapture = { running_version = "stdout" }',
        )
    )
    runbook = tmp_path / "flags.toml"
    runbook.write_text(text, encoding="utf-8")
    loaded = load(runbook)
    assert loaded.runbook is not None, loaded.problems
    session = Session.start(
        loaded.runbook, str(runbook), StartOptions(values={"dir": str(tmp_path), "lines": "1"}, yes=True)
    )

    async def walk() -> None:
        await session.choose_plan("A")
        await session.run_plan()
        await session.verify()
        await session.end()
        await session.close()

    asyncio.run(walk())
    started = next(e.data["describe"] for e in session.events if e.type == ev.STEP_STARTED)
    assert started == ["local $ echo announce >> " + f"{tmp_path}/ran; echo rolling ledger back to v5.1.0-flags-off"]
    md = render_markdown(session.events)
    assert (
        "| 版本 · Versions | v5.1.0 → v5.1.0-flags-off (what plan A leaves running); "
        "seen running: v5.1.0-flags-off (verification trace) |"
    ) in md
    assert "v5.0.3" not in md


def test_quitting_a_verified_drill_asks_to_end_it(tmp_path: Path) -> None:
    from screens.question import ChoiceScreen
    from tests.tui_helpers import make_app, settle

    values = {"dir": str(tmp_path), "lines": "1"}

    async def drive(answer: str) -> Session:
        app = make_app(TRUTH, operator="ana", drill=True, plan="A")
        async with app.run_test(size=(120, 40)) as pilot:
            app.start_session(StartOptions(values=values, plan="A", reason="drill", mode="drill", yes=True))
            await settle(app, pilot)
            session = app.session
            assert session is not None
            await session.run_checks()
            await session.run_plan()
            await session.verify()
            await settle(app, pilot)
            await pilot.press("q")
            await pilot.pause()
            assert isinstance(app.screen, ChoiceScreen)
            for _ in range(40):  # the dialog's text scrolls in its own container, laid out a frame later
                shown = " ".join(str(w.render()) for w in app.screen.query("Static"))
                if "End the drill now" in shown:
                    break
                await pilot.pause(0.05)
            assert "End the drill now (result: success)?" in shown
            await pilot.press(*(["down", "enter"] if answer == "yes" else ["enter"]))
            for _ in range(100):
                await pilot.pause(0.05)
                if session.state.result or not app.is_running:
                    break
            return session

    ended = asyncio.run(drive("yes"))
    assert read_events(ended.dir / JOURNAL_NAME)[-1].data["result"] == "success"
    (tmp_path / "wipe.trace").unlink()
    left = asyncio.run(drive("no"))
    assert read_events(left.dir / JOURNAL_NAME)[-1].type != ev.SESSION_ENDED  # left open: resumable


def test_a_dry_run_that_stopped_ticks_no_rollback_box(tmp_path: Path) -> None:
    session = start(tmp_path, dry_run=True)

    async def stop() -> None:
        await session.choose_plan("A")
        assert await session.end("failed", "the drill scenario's setup failed") == "failed"
        await session.close()

    asyncio.run(stop())
    md = render_markdown(session.events)
    assert "- [x] 🔍 空跑 · DRY RUN" in md and "- [x] ❌ the walk did not get through: failed" in md
    assert "回滚失败" not in md and "回滚成功" not in md  # nothing was rolled back, so no rollback failed
