"""A manual pre-check or verification passes only when someone confirmed it, and the journal and
the record name who: the operator by name, or ``--yes`` (nobody was asked). Before, both were
recorded "ok — confirmed by the operator" without a question ever being put."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.engine import events as ev
from tui.engine.api import Question
from tui.engine.session import Session, StartOptions
from tui.record import render_markdown
from tui.runbook.loader import load

# Written from SPEC.md alone: a payment service whose rollback needs a lead's go-ahead (a
# manual pre-check) and a human to pay one cent afterwards (a manual verification).
RUNBOOK = """schema = 1
id = "ledger-rollback"
title = "Ledger rollback"
service = "ledger"

[[checks]]
id = "lead_ok"
title = "The on-call lead approved the rollback"
kind = "manual"
instruction = "Ask the on-call lead in #incidents and wait for a written go-ahead."

[[checks]]
id = "disk"
title = "The bastion has room for the backup"
kind = "local"
run = "sleep 0.4; echo 1G free"

[plans.A]
title = "Restore the previous build"

[[plans.A.steps]]
id = "restore"
title = "Restore"
kind = "local"
run = "echo restored"

[[plans.A.verify]]
id = "pay"
title = "A one-cent payment goes through"
kind = "manual"
instruction = "Pay 0.01 with the test card and see the receipt."
"""


@pytest.fixture
def runbook(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    return path


def finished(session: Session, phase: str) -> dict[str, dict[str, object]]:
    return {e.data["id"]: e.data for e in session.events if e.type == ev.CHECK_FINISHED and e.data["phase"] == phase}


async def walk(runbook: Path, answers: dict[str, str] | None, *, yes: bool = False) -> tuple[Session, list[Question]]:
    """The whole session; ``answers`` by check id (None: no operator to ask, as headless)."""
    loaded = load(runbook)
    assert loaded.runbook is not None, loaded.problems
    asked: list[Question] = []
    session: Session | None = None

    async def ask(question: Question) -> str:
        asked.append(question)
        if question.step_id == "lead_ok":
            # The automatic check goes on while the operator reads the question (bounded wait).
            for _ in range(100):
                if "disk" in finished(session, "pre"):  # type: ignore[arg-type]
                    break
                await asyncio.sleep(0.02)
        return (answers or {}).get(question.step_id, "no")

    options = StartOptions(operator="ana", reason="ledger 500s", yes=yes)
    session = Session.start(loaded.runbook, str(runbook), options, ask=ask if answers is not None else None)
    await session.choose_plan("A")
    await session.run_checks()
    if not session.blocking_failures():
        await session.run_plan()
        await session.verify()
    await session.end()
    await session.close()
    return session, asked


def record_text(session: Session) -> str:
    return render_markdown(session.events)


def test_manual_checks_are_asked_and_name_who_confirmed(rbconsole_home: Path, runbook: Path) -> None:
    session, asked = asyncio.run(walk(runbook, {"lead_ok": "yes", "pay": "yes"}))
    assert [(q.kind, q.step_id, q.phase) for q in asked] == [("manual", "lead_ok", "pre"), ("manual", "pay", "verify")]
    assert asked[0].text.startswith("Ask the on-call lead")
    pre, verify = finished(session, "pre"), finished(session, "verify")
    assert pre["disk"]["status"] == "ok"
    assert (pre["lead_ok"]["status"], pre["lead_ok"]["detail"]) == ("ok", "confirmed by ana")
    assert (verify["pay"]["status"], verify["pay"]["detail"]) == ("ok", "confirmed by ana")
    assert session.state.result == "success"
    assert "the operator" not in record_text(session)


def test_the_automatic_checks_run_while_the_operator_is_asked(rbconsole_home: Path, runbook: Path) -> None:
    session, _ = asyncio.run(walk(runbook, {"lead_ok": "yes", "pay": "yes"}))
    starts = [e.data["id"] for e in session.events if e.type == ev.CHECK_STARTED and e.data["phase"] == "pre"]
    asked_at = next(e for e in session.events if e.type == ev.CONFIRMATION and e.data["id"] == "lead_ok").ts
    disk_done = next(e for e in session.events if e.type == ev.CHECK_FINISHED and e.data["id"] == "disk").ts
    assert "disk" in starts and disk_done <= asked_at  # the sleep 0.4 check ended before the answer


def test_a_manual_pre_check_answered_no_blocks_the_plan(rbconsole_home: Path, runbook: Path) -> None:
    session, _ = asyncio.run(walk(runbook, {"lead_ok": "no"}))
    lead = finished(session, "pre")["lead_ok"]
    assert lead["status"] == "declined" and lead["detail"] == "check lead_ok was not confirmed"
    assert session.blocking_failures() == ["lead_ok"]
    assert session.state.action("step", "restore") is None  # nothing ran past it
    assert session.state.result != "success"


def test_a_manual_verification_answered_no_is_no_success(rbconsole_home: Path, runbook: Path) -> None:
    session, _ = asyncio.run(walk(runbook, {"lead_ok": "yes", "pay": "no"}))
    pay = finished(session, "verify")["pay"]
    assert pay["status"] == "declined" and pay["detail"] == "check pay was not confirmed"
    assert session.state.result == "failed"
    text = record_text(session)
    assert "check pay was not confirmed" in text
    assert "confirmed by ana" in text  # the pre-check that was confirmed, and by whom


def test_with_no_one_to_ask_a_manual_check_is_not_confirmed(rbconsole_home: Path, runbook: Path) -> None:
    session, _ = asyncio.run(walk(runbook, None))
    lead = finished(session, "pre")["lead_ok"]
    assert (lead["status"], lead["detail"]) == ("declined", "check lead_ok needs confirmation; use --yes")
    assert session.state.result != "success"


def test_yes_confirms_and_says_nobody_was_asked(rbconsole_home: Path, runbook: Path) -> None:
    session, asked = asyncio.run(walk(runbook, {}, yes=True))
    assert asked == []
    for phase, check in (("pre", "lead_ok"), ("verify", "pay")):
        data = finished(session, phase)[check]
        assert (data["status"], data["detail"]) == ("ok", "confirmed by --yes (nobody was asked)")
    text = record_text(session)
    assert "confirmed by --yes (nobody was asked)" in text
    assert "confirmed by the operator" not in text and "confirmed by ana" not in text


def rb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=dict(os.environ),
    )  # fmt: skip


def test_headless_without_yes_stops_at_the_manual_pre_check(
    rbconsole_home: Path, runbook: Path, tmp_path: Path
) -> None:
    record = tmp_path / "r.md"
    done = rb("run", str(runbook), "--plan", "A", "--record", str(record))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "rbconsole: blocking pre-check lead_ok declined: check lead_ok needs confirmation; use --yes" in (
        done.stderr.splitlines()
    )
    assert "restored" not in done.stdout
    assert "confirmed by" not in record.read_text(encoding="utf-8")
    with_yes = rb("run", str(runbook), "--plan", "A", "--yes", "--record", str(record))
    assert with_yes.returncode == 0, with_yes.stdout + with_yes.stderr
    assert "confirmed by --yes (nobody was asked)" in record.read_text(encoding="utf-8")


def test_a_session_stopped_while_asked_runs_the_manual_check_on_resume(rbconsole_home: Path, runbook: Path) -> None:
    """The process stopped with the question open: the automatic check had passed, the manual
    one never ran. Resumed, the manual check is run (here confirmed by --yes) before the plan;
    it used to count as passed by its silence."""
    loaded = load(runbook)
    assert loaded.runbook is not None

    async def stop_while_asked() -> str:
        asked = asyncio.Event()

        async def ask(question: Question) -> str:
            asked.set()
            await asyncio.sleep(3600)  # the operator never answers: the process stops
            return "no"

        options = StartOptions(operator="ana", reason="ledger 500s")
        session = Session.start(loaded.runbook, str(runbook), options, ask=ask)
        await session.choose_plan("A")
        checks = asyncio.ensure_future(session.run_checks())
        await asyncio.wait_for(asked.wait(), 10)
        for _ in range(100):
            if "disk" in finished(session, "pre"):
                break
            await asyncio.sleep(0.05)
        checks.cancel()
        await asyncio.gather(checks, return_exceptions=True)
        assert session.checks_not_run() == ["lead_ok"]
        await session.close()
        return session.id

    session_id = asyncio.run(stop_while_asked())
    resumed = rb("resume", session_id, "--headless", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    reopened = Session.open(session_id)
    lead = finished(reopened, "pre")["lead_ok"]
    assert (lead["status"], lead["detail"]) == ("ok", "confirmed by --yes (nobody was asked)")
    starts = [e.data["id"] for e in reopened.events if e.type == ev.CHECK_STARTED]
    assert starts.count("disk") == 1  # what had passed is not run again
    asyncio.run(reopened.close())


def test_the_question_shows_the_instruction_with_its_values_filled_in(rbconsole_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "filled.toml"
    path.write_text(
        RUNBOOK.replace(
            'instruction = "Ask the on-call lead in #incidents and wait for a written go-ahead."',
            'instruction = "Ask {{ lead }} to approve build {{ build }} for {{ service }}."',
        )
        + '\n[params.lead]\nprompt = "Who leads"\ndefault = "@mira"\n[params.build]\nprompt = "Build"\n',
        encoding="utf-8",
    )
    loaded = load(path)
    assert loaded.runbook is not None, loaded.problems
    asked: list[Question] = []

    async def ask(question: Question) -> str:
        asked.append(question)
        return "no"

    async def walk() -> None:
        options = StartOptions(operator="ana", reason="x", values={"build": "$(rm -rf ~) '; --"})
        session = Session.start(loaded.runbook, str(path), options, ask=ask)
        await session.choose_plan("A")
        await session.run_checks()
        await session.close()

    asyncio.run(walk())
    assert asked[0].text == "Ask @mira to approve build $(rm -rf ~) '; -- for ledger."


def test_a_secret_in_a_manual_instruction_is_masked_in_the_question(
    rbconsole_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret.toml"
    path.write_text(
        RUNBOOK.replace(
            'instruction = "Ask the on-call lead in #incidents and wait for a written go-ahead."',
            'instruction = "Log in with {{ token }} and approve."',
        )
        + '\n[secrets.token]\nenv = "LEDGER_TOKEN"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LEDGER_TOKEN", "tok-9f8e7d6c5b4a")
    loaded = load(path)
    assert loaded.runbook is not None, loaded.problems
    asked: list[Question] = []

    async def ask(question: Question) -> str:
        asked.append(question)
        return "yes"

    async def walk() -> Session:
        session = Session.start(loaded.runbook, str(path), StartOptions(operator="ana", reason="x"), ask=ask)
        await session.choose_plan("A")
        await session.run_checks()
        await session.close()
        return session

    session = asyncio.run(walk())
    shown = asked[0].text + "\n".join(asked[0].describe)
    assert "Log in with" in shown and "tok-9f8e7d6c5b4a" not in shown and "9f8e" not in shown
    journal = (session.dir / "journal.jsonl").read_text(encoding="utf-8")
    assert "9f8e7d6c" not in journal
