"""The session engine driven through its Python API, with real local commands."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from tui.engine import events as ev
from tui.engine.events import Event
from tui.engine.journal import JOURNAL_NAME, read_events
from tui.engine.session import Question, Session, SessionError, StartOptions
from tui.runbook.loader import load_or_raise

DATA = Path(__file__).parent / "data"
BASIC = DATA / "engine_basic.toml"

HEADER = """schema = 1
id = "t"
title = "engine test"
service = "svc"
current_version = "v2"
target_version = "v1"
"""


def write_runbook(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "runbook.toml"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def start(path: Path, **options: object) -> Session:
    runbook = load_or_raise(path)
    ask = options.pop("ask", None)
    return Session.start(runbook, str(path), StartOptions(**options), ask=ask)  # type: ignore[arg-type]


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    value = "s3cr3t/tok en"
    monkeypatch.setenv("ENGINE_TEST_TOKEN", value)
    return value


async def test_full_flow_is_journaled_in_order_before_subscribers_see_it(token: str) -> None:
    session = start(BASIC, reason="5xx after deploy", yes=True, operator="ana")
    seen: list[Event] = []
    journal_lines_when_seen: list[int] = []

    def watch(event: Event) -> None:
        seen.append(event)
        if not event.transient:
            journal_lines_when_seen.append(len((session.dir / "journal.jsonl").read_bytes().splitlines()))

    session.subscribe(watch)
    assert await session.answer_triage("level", 0) == "roll"
    assert session.recommended_plan == "A"
    await session.choose_plan("A")
    checks = await session.run_checks()
    assert {c.id: c.status for c in checks} == {"disk": "ok", "soft": "failed"}
    assert session.blocking_failures() == []
    assert await session.run_plan() is True
    assert [r.status for r in await session.verify()] == ["ok"]
    assert await session.end() == "success"
    await session.close()

    on_disk = read_events(session.dir / "journal.jsonl")
    assert [e.seq for e in on_disk] == list(range(1, len(on_disk) + 1))
    journaled = [e for e in seen if not e.transient]
    assert [e.seq for e in journaled] == [e.seq for e in on_disk[1:]]
    # Each event was already on disk when the subscriber got it.
    assert journal_lines_when_seen == [e.seq for e in journaled]
    assert ev.OUTPUT not in {e.type for e in on_disk}
    assert any(e.type == ev.OUTPUT and "backup-20260101" in e.data["text"] for e in seen)
    for line in (session.dir / "journal.jsonl").read_text(encoding="utf-8").splitlines():
        assert json.loads(line)["type"] in ev.JOURNALED
    types = [e.type for e in on_disk]
    assert types[0] == ev.SESSION_STARTED and types[-1] == ev.SESSION_ENDED
    assert on_disk[0].data["operator"] == "ana" and on_disk[0].data["reason"] == "5xx after deploy"
    ticks = [e.data for e in on_disk if e.type == ev.CHECKLIST_TICKED]
    assert ticks == [{"list": "pre", "index": 1, "text": "Disk is there", "ticked": True, "by": "check:disk"}]
    confirmation = next(e.data for e in on_disk if e.type == ev.CONFIRMATION)
    assert confirmation == {"id": "restore", "phase": "step", "question": "destructive", "answer": "yes", "by": "--yes"}


async def test_secret_is_masked_in_output_files_and_journal(token: str, tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        """
[secrets.token]
env = "ENGINE_TEST_TOKEN"
[plans.A]
title = "leak"
[[plans.A.steps]]
id = "leak"
kind = "local"
run = "echo plain=$ENGINE_TEST_TOKEN; printf 'quoted=%s\\n' {{ token }}; python3 -c 'import urllib.parse,os; print(urllib.parse.quote(os.environ[\\"ENGINE_TEST_TOKEN\\"], safe=\\"\\"))'"
""",
    )
    session = start(path, yes=True)
    seen: list[str] = []
    session.subscribe(lambda e: seen.append(json.dumps(e.data, ensure_ascii=False)))
    await session.choose_plan("A")
    assert await session.run_plan()
    await session.end()
    await session.close()
    assert any("plain=••••••" in s for s in seen)
    assert any("quoted=••••••" in s for s in seen)
    encoded = "s3cr3t%2Ftok%20en"
    for file in session.dir.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert token.encode() not in data, file
            assert encoded.encode() not in data, file
    assert all(token not in s and encoded not in s for s in seen)


async def test_capture_flows_into_a_later_step_as_one_literal_value(tmp_path: Path) -> None:
    evil = f'x\'; touch {tmp_path}/PWNED; echo $(id) `id` "$HOME" #'
    (tmp_path / "evil").write_text(f"noise\n{evil}\n\n")
    out = tmp_path / "got"
    path = write_runbook(
        tmp_path,
        f"""
[plans.A]
title = "capture"
[[plans.A.steps]]
id = "produce"
kind = "local"
run = 'cat {tmp_path}/evil'
capture = {{ evil = "stdout" }}
[[plans.A.steps]]
id = "consume"
kind = "local"
run = "printf '%s' {{{{ evil }}}} > {out}; printf ' %s' \\"{{{{ evil }}}}\\" >> {out}"
""",
    )
    session = start(path, yes=True)
    await session.choose_plan("A")
    assert await session.run_plan()
    await session.close()
    assert out.read_text() == f"{evil} {evil}"
    assert not (tmp_path / "PWNED").exists()
    assert session.state.captured == {"evil": evil}


PLAN_WITH_FAILURE = """
[plans.A]
title = "failing"
[[plans.A.steps]]
id = "bad"
kind = "local"
run = "echo bad-ran >> {{{{ dir }}}}/log; test -f {{{{ dir }}}}/fixed || (touch {{{{ dir }}}}/fixed; exit 4)"
on_failure = "{on_failure}"
[[plans.A.steps]]
id = "after"
kind = "local"
run = "echo after-ran >> {{{{ dir }}}}/log"
[params.dir]
required = true
"""


@pytest.mark.parametrize(
    ("on_failure", "answer", "ok", "log", "result"),
    [
        ("stop", None, False, ["bad-ran"], "failed"),
        ("continue", None, False, ["bad-ran", "after-ran"], "partial"),
        ("ask", "retry", True, ["bad-ran", "bad-ran", "after-ran"], "success"),
        ("ask", "skip", True, ["bad-ran", "after-ran"], "partial"),
        ("ask", "abort", False, ["bad-ran"], "failed"),
    ],
)
async def test_on_failure(
    tmp_path: Path, on_failure: str, answer: str | None, ok: bool, log: list[str], result: str
) -> None:
    path = write_runbook(tmp_path, PLAN_WITH_FAILURE.format(on_failure=on_failure))
    asked: list[Question] = []

    async def ask(question: Question) -> str:
        asked.append(question)
        assert answer is not None
        return answer

    session = start(path, values={"dir": str(tmp_path)}, ask=ask)
    await session.choose_plan("A")
    assert await session.run_plan() is ok
    assert (tmp_path / "log").read_text().split() == log
    assert session.result() == result
    assert [q.kind for q in asked] == (["on_failure"] if on_failure == "ask" else [])
    if asked:
        assert asked[0].options == ("abort", "retry", "skip", "continue")
        assert "exit status 4" in asked[0].text
    await session.end()
    await session.close()


async def test_run_plan_again_does_not_rerun_a_step_the_plan_continued_past(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, PLAN_WITH_FAILURE.format(on_failure="continue"))
    session = start(path, values={"dir": str(tmp_path)})
    await session.choose_plan("A")
    assert await session.run_plan() is False
    assert await session.run_plan() is False  # as a resume would: nothing left to run
    assert (tmp_path / "log").read_text().split() == ["bad-ran", "after-ran"]
    await session.end()
    await session.close()


DESTRUCTIVE = """
[plans.A]
title = "destructive"
[[plans.A.steps]]
id = "wipe"
kind = "local"
run = "touch {{ dir }}/wiped"
confirm = true
[params.dir]
required = true
"""


async def test_destructive_step_declined_does_not_run(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, DESTRUCTIVE)
    questions: list[Question] = []

    async def ask(question: Question) -> str:
        questions.append(question)
        return "no"

    session = start(path, values={"dir": str(tmp_path)}, ask=ask)
    await session.choose_plan("A")
    assert await session.run_plan() is False
    assert not (tmp_path / "wiped").exists()
    assert questions[0].kind == "destructive" and questions[0].targets == ("wipe",)
    assert questions[0].describe == (f"local $ touch {tmp_path}/wiped",)
    assert await session.end() == "aborted"
    await session.close()


async def test_destructive_step_without_anyone_to_ask_fails_clearly(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, DESTRUCTIVE)
    session = start(path, values={"dir": str(tmp_path)})
    await session.choose_plan("A")
    assert await session.run_plan() is False
    assert session.stop_reason == "step wipe needs confirmation; use --yes"
    assert not (tmp_path / "wiped").exists()
    await session.close()


async def test_dry_run_runs_nothing(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        DESTRUCTIVE
        + '\n[[checks]]\nid = "c"\nkind = "local"\nrun = "touch {{ dir }}/checked"\n'
        + '[checklists]\npre = [{ text = "checked", check = "c" }]\n',
    )
    session = start(path, values={"dir": str(tmp_path)}, dry_run=True)
    await session.choose_plan("A")
    assert [r.status for r in await session.run_checks()] == ["dry_run"]
    assert not session.state.ticks  # a check that never ran ticks nothing
    assert await session.run_plan()
    assert await session.end() == "dry_run"  # a walk, not a rollback
    await session.close()
    assert not (tmp_path / "wiped").exists() and not (tmp_path / "checked").exists()
    started = [e.data for e in session.events if e.type == ev.STEP_STARTED]
    assert started[0]["describe"] == [f"local $ touch {tmp_path}/wiped"]


async def test_abort_stops_a_running_step_and_its_process(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        """
[params.dir]
required = true
[plans.A]
title = "long"
[[plans.A.steps]]
id = "long"
kind = "local"
run = "echo $$ > {{ dir }}/pid; echo started; sleep 120"
[[plans.A.steps]]
id = "never"
kind = "local"
run = "touch {{ dir }}/never"
""",
    )
    session = start(path, values={"dir": str(tmp_path)})
    started = asyncio.Event()
    session.subscribe(lambda e: started.set() if e.type == ev.OUTPUT and "started" in e.data["text"] else None)
    await session.choose_plan("A")
    run = asyncio.create_task(session.run_plan())
    await asyncio.wait_for(started.wait(), 30)
    session.abort("operator pressed a")
    assert await asyncio.wait_for(run, 30) is False
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not (tmp_path / "never").exists()
    finished = [e.data for e in session.events if e.type == ev.STEP_FINISHED]
    assert finished[0]["status"] == "aborted"
    assert await session.end() == "aborted"
    assert session.state.end_reason == "operator pressed a"
    await session.close()


async def test_blocking_precheck_and_override(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        """
[[checks]]
id = "must"
kind = "local"
run = "exit 1"
[plans.A]
title = "p"
[[plans.A.steps]]
id = "s"
kind = "local"
run = "true"
[checklists]
pre = [{ text = "must passes", check = "must" }, "people told"]
""",
    )
    session = start(path)
    await session.choose_plan("A")
    await session.run_checks()
    assert session.blocking_failures() == ["must"]
    with pytest.raises(SessionError):
        await session.override_check("must", "  ")
    await session.override_check("must", "known flaky; checked by hand")
    assert session.blocking_failures() == []
    await session.tick("pre", 1)
    await session.tick("pre", 1, ticked=False)
    await session.tick("pre", 1)
    with pytest.raises(SessionError):
        await session.tick("pre", 5)
    await session.note("paged the DBA")
    assert await session.run_plan()
    await session.verify()
    # An overridden blocking check makes the result partial, never plain success.
    assert await session.end() == "partial"
    await session.close()
    assert session.state.ticks[("pre", 1)]["ticked"] is True
    assert ("pre", 0) not in session.state.ticks  # the check failed: never ticked
    assert session.state.notes[0]["text"] == "paged the DBA"


def open_fd(path: Path) -> int:
    """The descriptor this process holds open on ``path`` (read from /proc, not from the session)."""
    target = str(path.resolve())
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == target:
                return int(name)
        except OSError:
            continue
    raise AssertionError(f"{path} is not open")


async def test_journal_that_cannot_be_written_refuses_destructive_steps(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, DESTRUCTIVE)
    session = start(path, values={"dir": str(tmp_path)}, yes=True)
    warnings: list[str] = []
    session.subscribe(lambda e: warnings.append(e.data["message"]) if e.type == ev.WARNING else None)
    await session.choose_plan("A")
    # The disk fills up: the journal's descriptor now points at /dev/full (ENOSPC on write).
    full = os.open("/dev/full", os.O_WRONLY)
    os.dup2(full, open_fd(session.dir / JOURNAL_NAME))
    os.close(full)
    await session.note("this cannot be written")
    assert warnings and "No space left on device" in warnings[0]
    result = await session.run_step("wipe")
    assert result.status == "error" and "not started" in result.detail and "journal" in result.detail
    assert not (tmp_path / "wiped").exists()
    assert session.result() == "failed"
    await session.close()


async def test_unknown_params_and_plans_are_refused(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, DESTRUCTIVE)
    with pytest.raises(SessionError, match="param 'dir' is required"):
        start(path)
    with pytest.raises(SessionError, match="--var nope"):
        start(path, values={"dir": "/tmp", "nope": "1"})
    with pytest.raises(SessionError, match="plan 'Z' is not defined"):
        start(path, values={"dir": "/tmp"}, plan="Z")


async def test_second_opener_is_read_only_and_told_who_holds_the_lock(tmp_path: Path) -> None:
    session = start(write_runbook(tmp_path, DESTRUCTIVE), values={"dir": str(tmp_path)})
    other = Session.open(session.id[-6:])
    assert other.read_only
    assert other.locked_by is not None and other.locked_by.endswith(f"pid {os.getpid()}")
    with pytest.raises(SessionError, match="read-only"):
        await other.note("hello")
    await other.close()
    await session.close()
    again = Session.open(session.id)
    assert not again.read_only
    assert again.events[-1].type == ev.SESSION_RESUMED
    await again.close()


async def test_50_mb_of_output_goes_to_the_file_in_full_and_the_journal_stays_small(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        """
[plans.A]
title = "flood"
[[plans.A.steps]]
id = "flood"
kind = "local"
run = "head -c 50000000 /dev/zero | tr '\\\\0' x | fold -w 99; echo the-end"
""",
    )
    session = start(path)
    chunks = 0

    def count(event: Event) -> None:
        nonlocal chunks
        chunks += event.type == ev.OUTPUT

    session.subscribe(count)
    await session.choose_plan("A")
    assert await session.run_plan()
    await session.close()
    (log,) = (session.dir / "output").iterdir()
    # fold ends 505050 full lines with a newline; the short last one runs into "the-end\n".
    assert log.stat().st_size == 50_000_000 + 50_000_000 // 99 + len("the-end\n")
    # Whole-line chunks, never one event per line (505,051 lines): how much a read finds in
    # the pipe depends on the machine's load, so the bound is far from both.
    assert 0 < chunks < 50_000
    assert (session.dir / "journal.jsonl").stat().st_size < 64 * 1024
    finished = next(e.data for e in session.events if e.type == ev.STEP_FINISHED)
    assert finished["excerpt"]["local"].endswith("the-end")
    assert len(finished["excerpt"]["local"]) <= 4000
    assert finished["output"] == {"local": log.name}


async def test_after_an_abort_the_operator_can_retry_and_finish(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        """
[params.dir]
required = true
[plans.A]
title = "long"
[[plans.A.steps]]
id = "long"
kind = "local"
run = "if [ -f {{ dir }}/flag ]; then echo fine; else touch {{ dir }}/flag; echo started; sleep 120; fi"
[[plans.A.steps]]
id = "next"
kind = "local"
run = "touch {{ dir }}/next"
""",
    )
    session = start(path, values={"dir": str(tmp_path)})
    started = asyncio.Event()
    session.subscribe(lambda e: started.set() if e.type == ev.OUTPUT and "started" in e.data["text"] else None)
    await session.choose_plan("A")
    step = asyncio.create_task(session.run_step("long"))
    await asyncio.wait_for(started.wait(), 30)
    session.abort()
    assert (await asyncio.wait_for(step, 30)).status == "aborted"
    assert session.result() == "aborted"
    assert (await session.run_step("long")).ok  # the retry
    assert await session.run_plan()
    await session.verify()
    assert await session.end() == "success"
    await session.close()
    assert (tmp_path / "next").exists()
    assert [h["status"] for h in session.state.actions[("step", "long")].history] == ["aborted", "ok"]


def test_an_ended_session_runs_nothing_more(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        f"""
[[checks]]
id = "c"
kind = "local"
run = "touch {tmp_path}/checked"

[plans.A]
title = "A"
[[plans.A.steps]]
id = "s"
kind = "local"
run = "touch {tmp_path}/stepped"
[[plans.A.verify]]
id = "v"
kind = "local"
run = "touch {tmp_path}/verified"
""",
    )

    async def scenario() -> list[str]:
        session = start(path, yes=True)
        await session.choose_plan("A")
        await session.end("aborted", "the operator stopped before anything ran")
        refused = []
        for work in (session.run_checks, session.run_plan, lambda: session.run_step("s"), session.verify):
            with pytest.raises(SessionError) as caught:
                await work()
            refused.append(str(caught.value))
        await session.close()
        return refused

    refused = asyncio.run(scenario())
    assert refused == ["the session has ended (aborted): nothing more runs in it"] * 4
    assert not [p for p in ("checked", "stepped", "verified") if (tmp_path / p).exists()]


def test_steps_wait_for_a_blocking_pre_check_still_running(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        f"""
[[checks]]
id = "slow"
kind = "local"
run = "sleep 1"

[plans.A]
title = "A"
[[plans.A.steps]]
id = "s"
kind = "local"
run = "touch {tmp_path}/stepped"
""",
    )

    async def scenario() -> tuple[str, bool]:
        session = start(path, yes=True)
        await session.choose_plan("A")
        checks = asyncio.ensure_future(session.run_checks())
        for _ in range(100):
            action = session.state.action("pre", "slow")
            if action is not None and action.status == "running":
                break
            await asyncio.sleep(0.02)
        with pytest.raises(SessionError) as caught:
            await session.run_plan()
        await checks
        ran = await session.run_plan()  # passed now: the plan goes
        await session.end()
        await session.close()
        return str(caught.value), ran

    refused, ran = asyncio.run(scenario())
    assert refused == "blocking pre-check slow is still running: the plan waits for it"
    assert ran and (tmp_path / "stepped").exists()
