"""``rbconsole run / export / sessions / resume`` as an operator runs them: real processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
BASIC = DATA / "engine_basic.toml"
LONG = DATA / "engine_long.toml"
TOKEN = "tok-5ecret%/value"


def rb(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def sessions(home: Path) -> list[Path]:
    return sorted((home / "sessions").iterdir())


def wait_for(predicate, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_run_succeeds_streams_with_host_prefix_and_writes_the_record(rbconsole_home: Path, tmp_path: Path) -> None:
    record = tmp_path / "record.md"
    done = rb("run", str(BASIC), "--plan", "A", "--yes", "--reason", "5xx spike", "--operator", "ana",
              "--var", "note=$(touch /tmp/nope)", "--record", str(record), env={"ENGINE_TEST_TOKEN": TOKEN})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "[local] backup-20260101" in done.stdout
    assert "[local] note=$(touch /tmp/nope)" in done.stdout
    assert "[local] token=••••••" in done.stdout
    assert "== result: SUCCESS" in done.stdout
    text = record.read_text(encoding="utf-8")
    assert "| 回滚人员 · Operator | ana |" in text
    assert "5xx spike" in text
    assert "- [x] ✅ 回滚成功 · success" in text
    assert "confirmations answered by --yes" in text
    assert TOKEN not in done.stdout + done.stderr + text


def test_secrets_never_reach_the_session_dir(rbconsole_home: Path, tmp_path: Path) -> None:
    done = rb("run", str(BASIC), "--plan", "A", "--yes", env={"ENGINE_TEST_TOKEN": TOKEN})
    assert done.returncode == 0, done.stderr
    (session,) = sessions(rbconsole_home)
    found = subprocess.run(["grep", "-rlF", TOKEN, str(session)], capture_output=True, text=True)
    assert found.stdout == "" and found.returncode == 1
    outputs = list((session / "output").iterdir())
    assert outputs and any("token=••••••" in p.read_text() for p in outputs)
    exported = rb("export", session.name[-6:], "--format", "json")
    assert exported.returncode == 0 and TOKEN not in exported.stdout


def test_bad_usage_exits_2_with_one_line(rbconsole_home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('schema = 1\nid = "x"\ntitle = "t"\nservice = "s"\n[plans.A]\ntitle = "p"\nsteps = []\n')
    done = rb("run", str(broken), "--plan", "A")
    assert done.returncode == 2
    assert done.stderr.startswith(f"{broken}:")
    assert "Traceback" not in done.stderr
    for args in (["--plan", "Z"], [], ["--plan", "A", "--var", "novalue"], ["--plan", "A", "--var", "x=1"]):
        done = rb("run", str(BASIC), *args, env={"ENGINE_TEST_TOKEN": TOKEN})
        assert done.returncode == 2, args
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, done.stderr


def test_missing_secret_is_one_clear_line(rbconsole_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ENGINE_TEST_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(BASIC), "--plan", "A", "--yes"],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2
    assert "secret 'token': environment variable ENGINE_TEST_TOKEN is not set" in done.stderr


def test_confirm_step_without_yes_and_without_tty_fails_clearly(rbconsole_home: Path, tmp_path: Path) -> None:
    done = rb("run", str(LONG), "--plan", "A", "--var", f"dir={tmp_path}", timeout=30)
    assert done.returncode == 1
    assert "step long needs confirmation; use --yes" in done.stderr
    assert not (tmp_path / "flag").exists()
    assert "first-done" in done.stdout


def test_dry_run_prints_resolved_commands_and_runs_nothing(rbconsole_home: Path, tmp_path: Path) -> None:
    done = rb("run", str(LONG), "--plan", "A", "--dry-run", "--var", f"dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    assert f"local $ echo last-done > {tmp_path}/last" in done.stdout
    assert not (tmp_path / "last").exists() and not (tmp_path / "flag").exists()


@pytest.fixture
def long_run(rbconsole_home: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A `rbconsole run` blocked inside its long step (the step's shell pid is in dir/pgid)."""
    out = (tmp_path / "out.txt").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", str(LONG), "--plan", "A", "--yes", "--var", f"dir={tmp_path}"],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: "long-begins" in (tmp_path / "out.txt").read_text())
        yield process, tmp_path
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        out.close()
        if (tmp_path / "pgid").exists():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int((tmp_path / "pgid").read_text()), signal.SIGKILL)


def test_kill_9_mid_step_then_export_and_resume(
    long_run: tuple[subprocess.Popen[str], Path], rbconsole_home: Path
) -> None:
    process, scratch = long_run
    process.kill()
    process.wait(10)
    (session,) = sessions(rbconsole_home)

    listed = rb("sessions")
    assert session.name in listed.stdout and "interrupted" in listed.stdout

    exported = rb("export", session.name)
    assert exported.returncode == 0
    assert "first-done" in exported.stdout  # nothing lost: the finished step and its output
    assert "| 2 | long Long step | local |" in exported.stdout
    assert "⚠️ outcome unknown (interrupted)" in exported.stdout
    record = json.loads(rb("export", session.name, "--format", "json").stdout)
    assert [s["status"] for s in record["steps"]] == ["ok", "unknown", "not run"]
    assert record["result"] == "interrupted"

    # Without --yes and without a terminal: stop, say so, and leave it resumable.
    stopped = rb("resume", session.name, "--headless")
    assert stopped.returncode == 1
    assert "step long has an unknown outcome; resume with --yes to re-run it" in stopped.stderr
    assert not (scratch / "last").exists()

    resumed = rb("resume", session.name[-6:], "--headless", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "long-ends" in resumed.stdout
    assert (scratch / "last").read_text() == "last-done\n"
    assert "[local] first-done" not in resumed.stdout  # finished steps are not run again

    final = rb("export", session.name).stdout
    assert "attempt 1 interrupted, outcome unknown: answered rerun (--yes)" in final
    assert "- [x] ✅ 回滚成功 · success" in final
    assert rb("sessions").stdout.count("success") == 1
    again = rb("resume", session.name, "--headless", "--yes")
    assert again.returncode == 0 and f"session {session.name} already ended (success)" in again.stderr
    assert rb("export", session.name).stdout == final  # an ended session is not reopened for writing


def test_torn_journal_line_is_repaired_on_resume(
    long_run: tuple[subprocess.Popen[str], Path], rbconsole_home: Path
) -> None:
    process, _ = long_run
    process.kill()
    process.wait(10)
    (session,) = sessions(rbconsole_home)
    journal = session / "journal.jsonl"
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"seq": 99, "ts": 1.0, "type": "note", "da')
    assert rb("export", session.name).returncode == 0  # export reads around the torn line
    resumed = rb("resume", session.name, "--headless", "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert "a torn last line was repaired" in resumed.stdout
    lines = journal.read_bytes().splitlines()
    assert all(json.loads(line) for line in lines)
    assert journal.read_bytes().startswith(whole)


def test_second_process_gets_the_lock_message(
    long_run: tuple[subprocess.Popen[str], Path], rbconsole_home: Path
) -> None:
    process, _ = long_run
    (session,) = sessions(rbconsole_home)
    other = rb("resume", session.name, "--headless", "--yes")
    assert other.returncode == 1
    assert f"pid {process.pid}" in other.stderr and "is locked by" in other.stderr
    assert "running" in rb("sessions").stdout
    live = rb("export", session.name)
    assert live.returncode == 0 and "| 2 | long Long step | local |" in live.stdout


def test_sigterm_aborts_the_step_and_records_it(
    long_run: tuple[subprocess.Popen[str], Path], rbconsole_home: Path
) -> None:
    process, scratch = long_run
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 1
    pid = int((scratch / "pgid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    (session,) = sessions(rbconsole_home)
    record = json.loads(rb("export", session.name, "--format", "json").stdout)
    assert record["result"] == "aborted"
    assert record["steps"][1]["status"] == "aborted"


def test_export_and_resume_name_unknown_sessions(rbconsole_home: Path) -> None:
    for args in (["export", "nope"], ["resume", "nope", "--headless"]):
        done = rb(*args)
        assert done.returncode == 2
        assert "no session matches 'nope'" in done.stderr and "Traceback" not in done.stderr
    assert rb("sessions").stdout.strip() == "no recorded sessions"


def test_dry_run_needs_no_secret_and_masks_where_it_goes(rbconsole_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ENGINE_TEST_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(BASIC), "--plan", "A", "--dry-run"],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "echo token=$ENGINE_TEST_TOKEN" in done.stdout
    assert "printf 'restoring %s\\n' '<backup captured by find>'" in done.stdout
    assert "stand-in" not in done.stdout


async def test_operator_answers_an_unknown_outcome_as_done(
    long_run: tuple[subprocess.Popen[str], Path], rbconsole_home: Path
) -> None:
    from tui.engine.session import Question, Session

    process, scratch = long_run
    process.kill()
    process.wait(10)
    (directory,) = sessions(rbconsole_home)
    asked: list[Question] = []

    async def ask(question: Question) -> str:
        asked.append(question)
        return "done" if question.kind == "unknown" else "yes"

    session = Session.open(directory.name, ask=ask)
    assert session.state.action("step", "long").status == "unknown"  # type: ignore[union-attr]
    assert session.pending_steps() == ["long", "last"]
    assert await session.run_plan()
    assert [q.kind for q in asked] == ["unknown"]
    assert asked[0].options == ("rerun", "done", "failed", "skip")
    assert session.result() == "partial"  # the verification has not run yet
    assert [r.status for r in await session.verify()] == ["ok"]
    assert await session.end() == "success"
    await session.close()
    assert (scratch / "last").exists()
    record = rb("export", directory.name).stdout
    assert "ok (attempt 1 interrupted, outcome unknown: answered done (operator))" in record
