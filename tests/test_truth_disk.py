"""The journal is the truth, also when the disk is not.

- Output shown is output kept: ``kill -9`` a real ``rbconsole run`` while it streams; every line
  it printed is in the step's output file.
- A destructive step never runs unrecorded: a real tmpfs is filled to the page so that the
  disk is full exactly at each event of a plan with a destructive step in turn (and at each
  step's output file). Whatever ran is durably journaled; nothing starts after the failure;
  the run ends failed with one line; the record says so; a resume runs nothing unrecorded.

The sweep runs in one process against one small disk: a case is a few milliseconds of engine
and a handful of ``sh -c`` steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lab.tmpfs import PAGE, SmallDisk, small_disk  # noqa: F401  (the fixture)
from tui.engine import events as ev
from tui.engine.journal import JOURNAL_NAME, read_events
from tui.engine.session import StartOptions
from tui.headless.runner import HeadlessOptions, resume_headless, run_headless
from tui.runbook.loader import load

DATA = Path(__file__).parent / "data"
TRUTH = DATA / "truth" / "truth.toml"
KILLS = 12


def _launch(home: Path, scratch: Path) -> subprocess.Popen[bytes]:
    scratch.mkdir()
    return subprocess.Popen(
        [sys.executable, "-m", "tui", "run", str(TRUTH), "--plan", "A", "--yes",
         "--var", f"dir={scratch}", "--var", "lines=100000"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        env={**os.environ, "RBCONSOLE_HOME": str(home)},
    )  # fmt: skip


def _printed_and_kept(proc: subprocess.Popen[bytes], home: Path, after_lines: int) -> tuple[int, int]:
    """Kill ``proc`` -9 once it printed ``after_lines`` stream lines: (lines printed, of them missing from the file)."""
    assert proc.stdout is not None
    printed: list[str] = []
    deadline = time.monotonic() + 60
    while len(printed) < after_lines and time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        if line.startswith("[local] line-"):
            printed.append(line.removeprefix("[local] ").rstrip("\n"))
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.stdout.read().decode()  # whatever reached the pipe before the kill was printed
    proc.wait(timeout=10)
    printed += [line.removeprefix("[local] ") for line in rest.splitlines() if line.startswith("[local] line-")]
    (session,) = (home / "sessions").iterdir()
    kept = set((session / "output" / "step-stream-1.local.log").read_text().splitlines())
    return len(printed), len([line for line in printed if line not in kept])


def test_every_line_printed_before_a_kill_is_in_the_output_file(tmp_path: Path) -> None:
    # All running at once (each with its own home), each killed at its own moment.
    procs = [(_launch(tmp_path / f"home{n}", tmp_path / f"dir{n}"), tmp_path / f"home{n}") for n in range(KILLS)]
    printed = missing = 0
    try:
        for n, (proc, home) in enumerate(procs):
            shown, lost = _printed_and_kept(proc, home, after_lines=1 + n * 9)
            printed, missing = printed + shown, missing + lost
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    print(f"\nkills: {KILLS}, lines printed: {printed}, printed lines missing from the output files: {missing}")
    assert printed >= KILLS and missing == 0


# --- the full-disk sweep -------------------------------------------------------------------------


def _run(disk: SmallDisk, dir_: Path, record: Path, reason: str) -> tuple[int, str]:
    loaded = load(TRUTH)
    assert loaded.runbook is not None
    start = StartOptions(values={"dir": str(dir_), "lines": "3"}, yes=True, plan="A", reason=reason, operator="ana")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = asyncio.run(
            asyncio.wait_for(
                run_headless(loaded.runbook, str(TRUTH), HeadlessOptions(start, str(record)), io.StringIO()), 30
            )
        )
    return rc, err.getvalue()


def _journal(home: Path) -> tuple[Path, list[ev.Event], bytes]:
    (session,) = (home / "sessions").iterdir()
    raw = (session / JOURNAL_NAME).read_bytes()
    return session, read_events(session / JOURNAL_NAME), raw


def _ran(dir_: Path) -> list[str]:
    ran = dir_ / "ran"
    return ran.read_text().split() if ran.exists() else []


def _unrecorded(events: list[ev.Event], ran: list[str]) -> list[str]:
    """Executions (from the steps' own traces) the journal on disk does not account for: a step
    run more often than it durably started, or a destructive one with no durable "yes"."""
    out = []
    for step in sorted(set(ran)):
        starts = [e for e in events if e.type == ev.STEP_STARTED and e.data["id"] == step]
        if ran.count(step) > len(starts):
            out.append(f"{step} ran {ran.count(step)}x, journaled {len(starts)}x")
        if step == "wipe":
            yeses = [e for e in events if e.type == ev.CONFIRMATION and e.data["id"] == "wipe" and e.data["answer"]]
            if len(yeses) < ran.count(step):
                out.append(f"wipe ran {ran.count(step)}x with {len(yeses)} journaled confirmations")
    return out


def _one_line_each(text: str) -> None:
    assert "Traceback" not in text, text
    assert all(line.startswith("rbconsole") for line in text.splitlines()), text


def test_a_full_disk_at_any_event_never_runs_a_step_unrecorded(
    small_disk: SmallDisk,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = small_disk.root / "home"
    monkeypatch.setenv("RBCONSOLE_HOME", str(home))
    work = tmp_path / "work"

    def fresh() -> Path:
        small_disk.unfill()
        small_disk.clear()
        if work.exists():
            for entry in work.iterdir():
                entry.unlink()
        work.mkdir(exist_ok=True)
        return work

    # The whole plan once, with room: where each event ends in the journal, which action wrote output.
    fresh()
    empty = small_disk.used_pages()
    rc, _ = _run(small_disk, work, tmp_path / "baseline.md", "")
    assert rc == 0
    _, events, raw = _journal(home)
    lock_pages = 1
    ends = [i + 1 for i, byte in enumerate(raw) if byte == ord("\n")]
    assert len(ends) == len(events) and small_disk.used_pages() > empty
    with_output = {(e.data["phase"], e.data["id"]) for e in events if e.type.endswith("_finished") and e.data["output"]}

    def output_pages_before(k: int) -> int:
        """Output files written before event k (each under a page; one page each)."""
        done = {(e.data["phase"], e.data["id"]) for e in events[: k + 1] if e.type.endswith("_finished")}
        return len(done & with_output)

    cases: list[tuple[str, int, int, str]] = []  # (what, event index, free pages, reason padding)
    for k, event in enumerate(events):
        if k == 0:
            cases.append((f"journal at {event.type}", 0, lock_pages, ""))
            continue
        # Pad the first event so that a page boundary falls in the middle of event k.
        size = ends[k] - ends[k - 1]
        pad = (PAGE - size // 2 - ends[k - 1]) % PAGE
        before = math.ceil((ends[k - 1] + pad) / PAGE)
        free = lock_pages + before + output_pages_before(k - 1) + (1 if event.type.endswith("_finished") and (
            event.data["phase"], event.data["id"]) in with_output else 0)  # fmt: skip
        cases.append((f"journal at {event.type} {event.data.get('id', '')}".rstrip(), k, free, "x" * pad))
    for k, event in enumerate(events):
        if event.type in (ev.STEP_STARTED, ev.CHECK_STARTED) and (event.data["phase"], event.data["id"]) in with_output:
            # The journal has room in its page; the output file gets none.
            pad = (PAGE - ends[k] + 64) % PAGE
            free = lock_pages + math.ceil((ends[k] + pad) / PAGE) + output_pages_before(k)
            cases.append((f"output of {event.data['id']}", k, free, "x" * pad))

    failed_at: list[int] = []  # the event at which the journal failed, per case
    unrecorded: list[str] = []
    for what, k, free, reason in cases:
        fresh()
        small_disk.leave_free(free)
        record = tmp_path / "case.md"
        record.unlink(missing_ok=True)
        began = time.monotonic()
        rc, err = _run(small_disk, work, record, reason)
        assert time.monotonic() - began < 20, what  # no hang until a step's timeout
        _one_line_each(err)
        session, on_disk, _ = _journal(home)
        ran = _ran(work)
        unrecorded += [f"{what}: {u}" for u in _unrecorded(on_disk, ran)]
        if what.startswith("journal"):
            failed_at.append(len(on_disk))
            assert len(on_disk) == k, f"{what}: the disk filled at event {len(on_disk)}, not {k}"
            if k == 0:
                assert rc == 2 and "cannot write the journal" in err
                continue
            assert rc == 1, what
            assert "cannot write the journal" in err, (what, err)
            text = record.read_text(encoding="utf-8")
            assert "> **JOURNAL FAILED** — cannot write the journal" in text, what
            assert "- [x] ❌ 回滚失败 · failed" in text, what
            # Nothing started after the event that could not be written.
            assert len(ran) <= len([e for e in on_disk if e.type == ev.STEP_STARTED]), what
        else:
            assert rc == 1, what
            step = what.removeprefix("output of ")
            finished = [e for e in on_disk if e.type == ev.STEP_FINISHED and e.data["id"] == step]
            assert finished and finished[-1].data["status"] == "error", what
            assert "cannot write the output file" in finished[-1].data["detail"], what
            assert ran[-1] == step, f"{what}: later steps started: {ran}"
            assert on_disk[-1].type == ev.SESSION_ENDED and on_disk[-1].data["result"] == "failed"
        # The disk has room again: a resume (--yes re-runs what is unknown) runs nothing unrecorded.
        small_disk.unfill()
        with contextlib.redirect_stderr(io.StringIO()):
            asyncio.run(asyncio.wait_for(resume_headless(session.name, yes=True, out=io.StringIO()), 30))
        _, after, _ = _journal(home)
        unrecorded += [f"{what}, then resumed: {u}" for u in _unrecorded(after, _ran(work))]
    print(f"\nfull-disk cases: {len(cases)} (journal at each of {len(events)} events, and {len(cases) - len(events)} "
          f"output files); executions unrecorded: {len(unrecorded)}")  # fmt: skip
    assert unrecorded == []
    assert sorted(failed_at) == list(range(len(events)))  # the sweep hit every event
