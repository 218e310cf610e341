"""``when``, ``optional`` and alternatives inside a plan, driven through the engine with real
local commands: both branches of each, what the journal and the record say, load-time errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui.engine import events as ev
from tui.engine.journal import read_events
from tui.engine.session import Question, Session, SessionError, StartOptions
from tui.record import render_markdown
from tui.record.build import build as build_record
from tui.runbook.loader import load_or_raise, load_text

RUNBOOK = """schema = 1
id = "branchy"
title = "branching test"
service = "svc"

[params.script]
prompt = "does the restore script work?"
default = "works"

[params.health]
default = "up"

[params.rate]
default = "0.07"

[params.token]
secret = true
default = "not-a-real-token-123"

[[checks]]
id = "health"
kind = "local"
run = "test {{ health }} = up"
severity = "warning"

[[checks]]
id = "deep_health"
title = "deep health, before (it fails: the checklist item starts unticked)"
kind = "local"
run = "false"
severity = "warning"

[plans.A]
title = "restore"

[[plans.A.steps]]
id = "restore_script"
title = "use the script"
kind = "local"
run = "echo running the script; test {{ script }} = works"
on_failure = "continue"

[[plans.A.steps]]
id = "restore_by_hand"
title = "or restore by hand"
kind = "local"
run = "echo restored by hand"
when = "steps.restore_script.failed"

[[plans.A.steps]]
id = "measure"
kind = "local"
run = "echo {{ rate }}"
capture = { error_rate = "stdout" }

[[plans.A.steps]]
id = "throttle"
kind = "local"
run = "echo throttled"
when = "captured.error_rate > 0.05"

[[plans.A.steps]]
id = "restart_mongo"
title = "restart MongoDB"
kind = "local"
run = "echo restarted"
optional = true
ask = "restart MongoDB if necessary"

[[plans.A.verify]]
id = "deep_health"
kind = "local"
run = "true"
when = "checks.health.ok == false"

[checklists]
post = [{ text = "deep health passed", check = "deep_health" }]
"""


@pytest.fixture
def runbook_path(tmp_path: Path) -> Path:
    path = tmp_path / "branchy.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    return path


async def drive(path: Path, ask: object = None, **options: object) -> Session:
    runbook = load_or_raise(path)
    session = Session.start(runbook, str(path), StartOptions(plan="A", **options), ask=ask)  # type: ignore[arg-type]
    await session.choose_plan("A")
    await session.run_checks()
    await session.run_plan()
    await session.verify()
    await session.end()
    await session.close()
    return session


def statuses(session: Session, phase: str = "step") -> dict[str, str]:
    return {a.id: a.status for a in session.state.in_phase(phase)}


def skip_reason(session: Session, step_id: str, phase: str = "step") -> str:
    action = session.state.action(phase, step_id)
    assert action is not None
    return action.skip_reason


async def test_the_script_works_so_the_by_hand_way_is_skipped_with_what_it_saw(runbook_path: Path) -> None:
    session = await drive(runbook_path, headless=True)
    assert statuses(session) == {
        "restore_script": "ok",
        "restore_by_hand": "skipped",
        "measure": "ok",
        "throttle": "ok",
        "restart_mongo": "skipped",
    }
    assert skip_reason(session, "restore_by_hand") == (
        "condition false (steps.restore_script.failed; steps.restore_script.failed = false)"
    )
    assert session.state.result == "success"  # skipping as written is the plan working
    journal = read_events(session.dir / "journal.jsonl")
    skipped = next(e for e in journal if e.type == ev.STEP_SKIPPED and e.data["id"] == "restore_by_hand")
    assert skipped.data["by"] == "condition"
    assert skipped.data["values"] == "steps.restore_script.failed = false"
    started = next(e for e in journal if e.type == ev.STEP_STARTED and e.data["id"] == "throttle")
    assert started.data["condition"] == {"when": "captured.error_rate > 0.05", "values": "captured.error_rate = '0.07'"}
    record = render_markdown(journal)
    assert "skipped: condition false (steps.restore_script.failed; steps.restore_script.failed = false)" in record
    assert "step throttle started (condition true: captured.error_rate > 0.05; captured.error_rate = '0.07')" in record


async def test_the_script_fails_so_the_by_hand_way_runs_and_the_plan_succeeds(runbook_path: Path) -> None:
    session = await drive(runbook_path, headless=True, values={"script": "broken", "rate": "0.01"})
    assert statuses(session)["restore_script"] == "failed"
    assert statuses(session)["restore_by_hand"] == "ok"
    assert statuses(session)["throttle"] == "skipped"
    assert (
        skip_reason(session, "throttle") == "condition false (captured.error_rate > 0.05; captured.error_rate = '0.01')"
    )
    # The failure stays in the record; the alternative did the work, so the rollback succeeded.
    assert session.state.result == "success"
    record = build_record(session.events)
    row = next(r for r in record["steps"] if r["id"] == "restore_script")
    assert row["status"] == "failed"
    assert row["detail"] == "exit status 1 (the plan took its alternative: restore_by_hand)"
    assert session.pending_steps() == []  # the failed way is finished: the plan took the other one


async def test_a_failure_no_later_step_was_written_for_is_still_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    text = RUNBOOK.replace('when = "steps.restore_script.failed"', 'when = "not steps.restore_script.ok and false"')
    path.write_text(text, encoding="utf-8")
    session = await drive(path, headless=True, values={"script": "broken"})
    assert statuses(session)["restore_by_hand"] == "skipped"
    assert session.state.result == "partial"  # failed, went on by on_failure = "continue", nothing covered it


async def test_verification_condition_both_ways_and_a_skipped_check_ticks_nothing(runbook_path: Path) -> None:
    healthy = await drive(runbook_path, headless=True)
    assert statuses(healthy, "verify") == {"deep_health": "skipped"}
    assert (
        skip_reason(healthy, "deep_health", "verify")
        == "condition false (checks.health.ok == false; checks.health.ok = true)"
    )
    assert not healthy.state.ticks.get(("post", 0), {}).get("ticked")
    sick = await drive(runbook_path, headless=True, values={"health": "down"})
    assert statuses(sick, "verify") == {"deep_health": "ok"}
    assert sick.state.ticks[("post", 0)]["ticked"] is True


async def test_headless_skips_an_optional_step_and_yes_does_not_answer_it(runbook_path: Path) -> None:
    session = await drive(runbook_path, headless=True, yes=True)
    assert statuses(session)["restart_mongo"] == "skipped"
    assert skip_reason(session, "restart_mongo") == "optional, not run headless (--with restart_mongo runs it)"
    decided = [c for c in session.state.confirmations if c["id"] == "restart_mongo"]
    assert [(c["question"], c["answer"], c["by"]) for c in decided] == [("optional", "skip", "headless")]
    record = render_markdown(session.events)
    assert "optional **restart_mongo**: skip (headless)" in record


async def test_with_runs_the_optional_step_headless(runbook_path: Path) -> None:
    session = await drive(runbook_path, headless=True, with_steps=("restart_mongo",))
    assert statuses(session)["restart_mongo"] == "ok"
    decided = [c for c in session.state.confirmations if c["id"] == "restart_mongo"]
    assert [(c["answer"], c["by"]) for c in decided] == [("run", "--with")]


async def test_with_names_only_optional_steps(runbook_path: Path) -> None:
    runbook = load_or_raise(runbook_path)
    for bad in ("measure", "nope"):
        with pytest.raises(SessionError, match=f"--with {bad}: no optional step '{bad}' in plan 'A'"):
            Session.start(runbook, str(runbook_path), StartOptions(plan="A", headless=True, with_steps=(bad,)))


@pytest.mark.parametrize(("answer", "status"), [("run", "ok"), ("skip", "skipped"), ("nonsense", "skipped")])
async def test_the_console_asks_even_under_yes(runbook_path: Path, answer: str, status: str) -> None:
    asked: list[Question] = []

    async def ask(question: Question) -> str:
        asked.append(question)
        return answer

    session = await drive(runbook_path, ask=ask, yes=True)
    assert [(q.kind, q.step_id, q.options) for q in asked] == [("optional", "restart_mongo", ("run", "skip"))]
    assert asked[0].text == "Run this optional step? restart MongoDB if necessary"
    assert statuses(session)["restart_mongo"] == status
    decided = next(c for c in session.state.confirmations if c["id"] == "restart_mongo")
    assert decided["by"] == "operator"
    assert decided["answer"] == (None if answer == "nonsense" else answer)


async def test_a_condition_that_cannot_be_evaluated_stops_rather_than_guesses(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    # the capture comes from the optional step, which headless does not run
    text = RUNBOOK.replace('run = "echo restarted"', 'run = "echo restarted"\ncapture = { restarted = "stdout" }')
    text += """
[[plans.A.steps]]
id = "after_restart"
kind = "local"
run = "echo after"
when = "captured.restarted == 'restarted'"
"""
    path.write_text(text, encoding="utf-8")
    session = await drive(path, headless=True)
    action = session.state.action("step", "after_restart")
    assert action is not None and action.status == "error"
    assert action.last["detail"] == (
        "cannot evaluate when = captured.restarted == 'restarted': captured.restarted has no value yet"
    )
    assert session.state.result == "failed"


async def test_a_dry_run_decides_nothing_and_says_what_a_live_run_would(runbook_path: Path) -> None:
    asked: list[Question] = []

    async def ask(question: Question) -> str:
        asked.append(question)
        return "skip"

    session = await drive(runbook_path, ask=ask, dry_run=True)
    assert set(statuses(session).values()) == {"dry_run"}
    assert asked == []
    details = {a.id: a.last["detail"] for a in session.state.in_phase("step")}
    assert details["restore_by_hand"] == "runs only if steps.restore_script.failed"
    assert details["restart_mongo"] == "optional: a live run asks (restart MongoDB if necessary)"


async def test_a_secret_in_a_var_shows_masked_in_what_the_condition_saw(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    text = RUNBOOK.replace("[[checks]]", '[vars]\nauth = "Bearer {{ token }}"\n\n[[checks]]', 1)
    text = text.replace('when = "steps.restore_script.failed"', "when = \"vars.auth == 'x'\"")
    path.write_text(text, encoding="utf-8")
    session = await drive(path, headless=True)
    assert skip_reason(session, "restore_by_hand") == "condition false (vars.auth == 'x'; vars.auth = ••••••)"
    assert "not-a-real-token-123" not in (session.dir / "journal.jsonl").read_text(encoding="utf-8")


# --- load time -------------------------------------------------------------------------------


def problems(text: str) -> list[str]:
    loaded = load_text(text, "rb.toml")
    return [str(p) for p in loaded.problems]


def line_col(text: str, needle: str, offset: int = 0) -> str:
    index = text.index(needle) + offset
    line = text.count("\n", 0, index) + 1
    return f"{line}:{index - (text.rfind(chr(10), 0, index) + 1) + 1}"


@pytest.mark.parametrize(
    ("when", "where", "message"),
    [
        ("steps.restore_script.failed ==", 30, "when: expected a name or a value at the end"),
        (
            "steps.nope.failed",
            0,
            "when: steps.nope.failed: no step 'nope' runs before this one (known: restore_script)",
        ),
        ("steps.measure.ok", 0, "no step 'measure' runs before this one"),  # later in the plan
        ("steps.restore_by_hand.ok", 0, "no step 'restore_by_hand' runs before this one"),  # itself
        ("captured.error_rate > 1", 0, "nothing captures 'error_rate' before this one"),  # captured later
        ("checks.nope.ok", 0, "no check 'nope' runs before this one (known: health, deep_health)"),
        ("params.token == 'x'", 0, "a secret param cannot be in a condition"),
        ("params.nope", 0, "no param 'nope'"),
        ("vars.nope", 0, "no var 'nope' (known: none)"),
        ("steps.restore_script.ok and {{ script }}", 28, "unexpected character '{'"),
    ],
)
def test_bad_conditions_are_load_time_errors_at_file_line_col(when: str, where: int, message: str) -> None:
    text = RUNBOOK.replace('when = "steps.restore_script.failed"', f'when = "{when}"')
    found = [p for p in problems(text) if "when" in p]
    assert len(found) == 1, problems(text)
    assert found[0].startswith(f"rb.toml:{line_col(text, 'when = ', 8 + where)}: ")
    assert message in found[0]


def test_verification_conditions_see_every_step_and_captured_value() -> None:
    text = RUNBOOK.replace(
        'when = "checks.health.ok == false"', 'when = "steps.restart_mongo.skipped and captured.error_rate > 0"'
    )
    assert problems(text) == []


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('ask = "why"', "'ask' is the question of an optional step: add 'optional = true'"),
        ("optional = true", "'optional' is for plan steps and verifications, not a pre-check"),
        ('when = "steps.x.ok"', "'when' is for plan steps and verifications, not a pre-check"),
    ],
)
def test_optional_and_when_belong_to_plan_steps(snippet: str, message: str) -> None:
    text = RUNBOOK.replace('severity = "warning"', f'severity = "warning"\n{snippet}')
    assert any(message in p for p in problems(text)), problems(text)


def test_a_verification_cannot_be_optional() -> None:
    text = RUNBOOK.replace('when = "checks.health.ok == false"', "optional = true")
    assert any("a verification cannot be optional (use 'when')" in p for p in problems(text))


# --- the command line ------------------------------------------------------------------------


def rb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


def test_run_with_runs_the_optional_step_and_a_bad_with_is_usage(runbook_path: Path, tmp_path: Path) -> None:
    record = tmp_path / "record.md"
    done = rb("run", str(runbook_path), "--plan", "A", "--yes", "--with", "restart_mongo", "--record", str(record))
    assert done.returncode == 0, done.stderr
    assert "optional restart_mongo: run (--with)" in done.stdout
    assert "[local] restarted" in done.stdout
    assert "optional **restart_mongo**: run (--with)" in record.read_text(encoding="utf-8")
    without = rb("run", str(runbook_path), "--plan", "A", "--yes")
    assert without.returncode == 0, without.stderr
    assert "- restart_mongo skipped: optional, not run headless (--with restart_mongo runs it)" in without.stdout
    assert "- restore_by_hand skipped: condition false (steps.restore_script.failed; " in without.stdout
    assert "  when captured.error_rate > 0.05: true (captured.error_rate = '0.07')" in without.stdout
    bad = rb("run", str(runbook_path), "--plan", "A", "--with", "measure")
    assert bad.returncode == 2
    assert bad.stderr.strip().endswith(
        "--with measure: no optional step 'measure' in plan 'A' (optional: restart_mongo)"
    )


# --- escalation ------------------------------------------------------------------------------

CONTACTS = """
[[contacts]]
role = "DBA"
name = "Wei"
phone = "+86-10-5550-0101"
chat = "wechat:wei-dba"
order = 2
escalate = ["failed"]

[[contacts]]
role = "Tech lead"
name = "Ada"
phone = "+1-555-0100"
order = 1
escalate = ["failed", "overdue"]

[[contacts]]
role = "Product owner"
email = "bo@example.com"
"""


def escalations(session: Session) -> list[tuple[str, str, list[str]]]:
    return [
        (e.data["reason"], e.data["detail"], [c["role"] for c in e.data["contacts"]])
        for e in session.events
        if e.type == ev.ESCALATION_DUE
    ]


async def test_a_failed_step_makes_escalation_due_once_in_order(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    text = RUNBOOK.replace('when = "steps.restore_script.failed"', 'when = "false"').replace(
        'run = "echo {{ rate }}"', 'run = "echo {{ rate }}; false"'
    )
    path.write_text(text + CONTACTS, encoding="utf-8")
    session = await drive(path, headless=True, values={"script": "broken"})
    # restore_script failed with no step written for its failure: escalation is due, once;
    # measure failing later does not call the same people again.
    assert statuses(session)["measure"] == "failed"
    assert escalations(session) == [("failed", "step restore_script failed: exit status 1", ["Tech lead", "DBA"])]
    record = render_markdown(session.events)
    assert (
        "escalation due (step restore_script failed: exit status 1): call Tech lead Ada (+1-555-0100); "
        "then DBA Wei (+86-10-5550-0101, wechat:wei-dba)" in record
    )


async def test_the_alternative_covering_a_failure_escalates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text(RUNBOOK + CONTACTS, encoding="utf-8")
    session = await drive(path, headless=True, values={"script": "broken"})
    assert statuses(session)["restore_by_hand"] == "ok"
    assert escalations(session) == []


async def test_a_failed_verification_escalates(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    text = RUNBOOK.replace('when = "checks.health.ok == false"\n', "").replace(
        'id = "deep_health"\nkind = "local"\nrun = "true"', 'id = "deep_health"\nkind = "local"\nrun = "false"'
    )
    path.write_text(text + CONTACTS, encoding="utf-8")
    session = await drive(path, headless=True)
    assert escalations(session) == [("failed", "verification deep_health failed: exit status 1", ["Tech lead", "DBA"])]


async def test_the_target_time_passing_makes_escalation_due_while_a_step_runs(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    text = RUNBOOK.replace('title = "restore"', 'title = "restore"\ntarget_minutes = 0.005').replace(
        'run = "echo restored by hand"', 'run = "sleep 1.5"'
    )
    path.write_text(text + CONTACTS, encoding="utf-8")
    session = await drive(path, headless=True, values={"script": "broken"})
    assert escalations(session) == [("overdue", "plan A passed its target of 0.005 min", ["Tech lead"])]
    due = next(e for e in session.events if e.type == ev.ESCALATION_DUE)
    by_hand = next(e for e in session.events if e.type == ev.STEP_FINISHED and e.data["id"] == "restore_by_hand")
    assert due.seq < by_hand.seq  # while the slow step ran, not at the end
    # a dry run decides nothing and calls nobody
    dry = await drive(path, headless=True, dry_run=True)
    assert escalations(dry) == []


async def test_a_drill_says_whom_it_would_call(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    text = RUNBOOK.replace('run = "echo {{ rate }}"', 'run = "echo {{ rate }}; false"')
    path.write_text(text + CONTACTS, encoding="utf-8")
    session = await drive(path, headless=True, mode="drill")
    (due,) = [e.data for e in session.events if e.type == ev.ESCALATION_DUE]
    assert due["drill"] is True
    assert "drill: escalation would be due (step measure failed: exit status 1): call Tech lead Ada" in (
        render_markdown(session.events)
    )
