"""``sessions``, ``export`` and ``resume`` at their edges: nothing recorded, an id that names no
session or several, a session that already ended. One line each, the right exit status."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

RUNBOOK = """schema = 1
id = "edges"
title = "edges"
service = "svc"
[plans.A]
title = "one step"
[[plans.A.steps]]
id = "only"
kind = "local"
run = "{{ command }}"
[params.command]
prompt = "What to run"
default = "true"
"""


def rb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=dict(os.environ),
    )  # fmt: skip


def one_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def recorded(home: Path, runbook: Path, *args: str) -> str:
    before = set((home / "sessions").iterdir()) if (home / "sessions").is_dir() else set()
    rb("run", str(runbook), "--plan", "A", *args)
    (new,) = set((home / "sessions").iterdir()) - before
    return new.name


def test_sessions_with_nothing_recorded_says_so_and_succeeds(rbconsole_home: Path) -> None:
    assert not rbconsole_home.exists()
    done = rb("sessions")
    assert done.returncode == 0
    assert one_line(done.stdout) == "no recorded sessions" and done.stderr == ""
    (rbconsole_home / "sessions").mkdir(parents=True)
    (rbconsole_home / "sessions" / "not-a-session").mkdir()  # no journal in it
    assert one_line(rb("sessions").stdout) == "no recorded sessions"


def test_unknown_and_ambiguous_ids_name_the_matches(rbconsole_home: Path, tmp_path: Path) -> None:
    runbook = tmp_path / "edges.toml"
    runbook.write_text(RUNBOOK, encoding="utf-8")
    first, second = recorded(rbconsole_home, runbook), recorded(rbconsole_home, runbook)
    shared = first[: next(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)]
    assert shared, "session ids start with their date"
    for command in ("export", "resume"):
        unknown = rb(command, "zz-nothing")
        assert unknown.returncode == 2 and unknown.stdout == ""
        assert one_line(unknown.stderr) == (
            f"rbconsole {command}: no session matches 'zz-nothing' (see `rbconsole sessions`)"
        )
        ambiguous = rb(command, shared)
        assert ambiguous.returncode == 2 and ambiguous.stdout == ""
        line = one_line(ambiguous.stderr)
        assert line.startswith(f"rbconsole {command}: {shared!r} matches 2 sessions (")
        assert first in line and second in line and line.endswith("give more of the id")
    exported = rb("export", second.rsplit("-", 1)[1], "--format", "json")  # its random part is enough
    assert exported.returncode == 0 and json.loads(exported.stdout)["session"] == second


def test_resume_of_an_ended_session_says_so_and_exits_with_its_result(rbconsole_home: Path, tmp_path: Path) -> None:
    runbook = tmp_path / "edges.toml"
    runbook.write_text(RUNBOOK, encoding="utf-8")
    passed = recorded(rbconsole_home, runbook)
    failed = recorded(rbconsole_home, runbook, "--var", "command=false")
    journals = {name: (rbconsole_home / "sessions" / name / "journal.jsonl").read_bytes() for name in (passed, failed)}
    runbook.unlink()  # an ended session is a record: its runbook need not be there any more
    for name, result, code in ((passed, "success", 0), (failed, "failed", 1)):
        done = rb("resume", name, "--headless", "--yes")
        assert done.returncode == code and done.stdout == ""
        assert one_line(done.stderr) == (
            f"rbconsole resume: session {name} already ended ({result}); nothing to resume "
            f"(`rbconsole export {name}` renders its record)"
        )
        assert (rbconsole_home / "sessions" / name / "journal.jsonl").read_bytes() == journals[name]


def test_export_of_a_session_whose_journal_is_gone_is_one_line(rbconsole_home: Path, tmp_path: Path) -> None:
    runbook = tmp_path / "edges.toml"
    runbook.write_text(RUNBOOK, encoding="utf-8")
    name = recorded(rbconsole_home, runbook)
    shutil.rmtree(rbconsole_home / "sessions" / name)
    done = rb("export", name)
    assert done.returncode == 2
    assert one_line(done.stderr) == f"rbconsole export: no session matches {name!r} (see `rbconsole sessions`)"
