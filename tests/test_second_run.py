"""A second live run of a plan while another live session of it runs: headless refuses
without --force, naming the other session, its operator and what it is doing; the console's
engine journals a warning when the plan is chosen."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.test_engine_session import start
from tui.engine import events as ev
from tui.engine.store import info, session_dirs

RUNBOOK = """schema = 1
id = "twice"
title = "Run twice"
service = "svc"

[params.secs]
prompt = "how long"
default = "0"
pattern = "[0-9]+"

[plans.A]
title = "Restart"

[[plans.A.steps]]
id = "restart"
title = "Restart the service"
kind = "local"
run = "sleep {{ secs }}"

[plans.B]
title = "Other"

[[plans.B.steps]]
id = "other"
kind = "local"
run = "true"
"""


def rb(path: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "run", str(path), "--yes", "--reason", "again", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "RBCONSOLE_HOME": str(home)},
    )


async def test_a_second_live_run_is_refused_without_force(tmp_path: Path, rbconsole_home: Path) -> None:
    path = tmp_path / "twice.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    first = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", str(path), "--plan", "A", "--yes", "--operator", "ana",
         "--var", "secs=60"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        env={**os.environ, "RBCONSOLE_HOME": str(rbconsole_home)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not any(info(d).state.ongoing for d in session_dirs()):
            assert time.monotonic() < deadline and first.poll() is None, "the first run did not reach its step"
            time.sleep(0.1)
        (other,) = [d.name for d in session_dirs()]
        refused = rb(path, rbconsole_home, "--plan", "A", "--operator", "bo")
        assert refused.returncode == 2
        assert refused.stderr.strip() == (
            f"rbconsole: {path}: plan A is already running live: session {other} (operator ana, running step"
            " restart: Restart the service). Two runs of one rollback at once fight each other; add --force if"
            " this is meant"
        )
        assert len(session_dirs()) == 1
        assert rb(path, rbconsole_home, "--plan", "B").returncode == 0  # another plan is not the same run
        assert rb(path, rbconsole_home, "--plan", "A", "--dry-run").returncode != 2  # a dry run changes nothing
        forced = rb(path, rbconsole_home, "--plan", "A", "--force")
        assert forced.returncode == 0, forced.stderr
        assert f"warning: plan A is already running live: session {other} (operator ana" in forced.stdout
        # The console's engine: the warning is journaled when the plan is chosen.
        session = start(path, yes=True)
        await session.choose_plan("A")
        warnings = [e.data["message"] for e in session.events if e.type == ev.WARNING]
        assert warnings == [
            f"plan A is already running live: session {other} (operator ana, running step restart: Restart the service)"
        ]
        await session.close()
    finally:
        first.kill()
        first.wait(timeout=10)
    # Once the other run is gone, nothing is said.
    assert rb(path, rbconsole_home, "--plan", "A").returncode == 0
