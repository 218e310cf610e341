"""Scenario setup and teardown are always paired: teardown runs after a failed step and after an abort."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_drill_demo import demo_vars as _demo_vars
from tests.test_drill_demo import (
    finished,
    free_port,
    get_json,
    journals,
    no_leftover_service,  # noqa: F401 (autouse: no demo-web outlives a test)
    port_closed,
    rbconsole,
)

RUNBOOK = """
schema = 1
id = "paired"
title = "setup and teardown stay paired"
service = "demo-web"

[vars]
sandbox = "/nonexistent"
port = "1"
python = "python3"
fail = "0"

[plans.A]
title = "a plan that fails or hangs"
target_minutes = 1
[[plans.A.steps]]
id = "answer"
kind = "http"
url = "http://127.0.0.1:{{ port }}/version"
expect_json = { version = "v2" }
[[plans.A.steps]]
id = "breaks"
kind = "local"
run = "exit {{ fail }}"
[[plans.A.steps]]
id = "hangs"
kind = "local"
run = "echo hanging now; sleep 120"

[[drills]]
id = "s"
title = "demo-web up, then trouble"
plan = "A"
[[drills.setup]]
id = "make"
kind = "local"
run = "{{ python }} -m tui.demo setup {{ sandbox }}"
[[drills.setup]]
id = "up"
kind = "local"
run = "{{ python }} -m tui.demo start {{ sandbox }} --port {{ port }}"
[[drills.teardown]]
id = "remove"
kind = "local"
run = "{{ python }} -m tui.demo teardown {{ sandbox }}"
"""


def demo_vars(sandbox: Path, port: int) -> list[str]:
    return [*_demo_vars(sandbox, port), "--var", f"python={sys.executable}"]


@pytest.fixture
def runbook(tmp_path: Path) -> Path:
    path = tmp_path / "paired.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    return path


def test_teardown_runs_after_a_failed_step(runbook: Path, tmp_path: Path) -> None:
    box, port = tmp_path / "sb", free_port()
    done = rbconsole("drill", str(runbook), "--headless", "--yes", "--var", "fail=3", *demo_vars(box, port))
    assert done.returncode == 1, done.stdout + done.stderr
    [events] = journals()
    assert finished(events, "step")["answer"]["status"] == "ok", "demo-web was up during the plan"
    assert finished(events, "step")["breaks"]["status"] == "failed"
    assert "hangs" not in finished(events, "step")
    assert finished(events, "teardown")["remove"]["status"] == "ok"
    assert not box.exists() and port_closed(port)
    assert "== DRILL == failed:" in done.stdout


def test_teardown_runs_after_a_failed_setup(runbook: Path, tmp_path: Path) -> None:
    box = tmp_path / "sb"
    with socket.socket() as taken:  # the port is busy: setup's start step fails
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = rbconsole("drill", str(runbook), "--headless", "--yes", *demo_vars(box, port))
    assert done.returncode == 1
    [events] = journals()
    assert finished(events, "setup")["up"]["status"] == "failed"
    assert finished(events, "step") == {}, "no plan step runs on a broken setup"
    assert finished(events, "teardown")["remove"]["status"] == "ok"
    assert not box.exists()


def _read_until(proc: subprocess.Popen[bytes], needle: bytes, limit: float = 60.0) -> bytes:
    """The child's output up to ``needle`` (bounded in time; no sleeping: select waits for output)."""
    assert proc.stdout is not None
    fd, seen = proc.stdout.fileno(), b""
    deadline = time.monotonic() + limit
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"{needle!r} never came: {seen.decode(errors='replace')[-2000:]}")
        chunk = os.read(fd, 65536)
        if not chunk:
            raise AssertionError(f"the drill ended first: {seen.decode(errors='replace')[-2000:]}")
        seen += chunk
    return seen


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_teardown_runs_after_an_abort(runbook: Path, tmp_path: Path, sig: signal.Signals) -> None:
    box, port = tmp_path / "sb", free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "drill", str(runbook), "--headless", "--yes", *demo_vars(box, port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        before = _read_until(proc, b"[local] hanging now")  # the hanging command really runs
        assert get_json(port, "/version")["version"] == "v2"
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=60)
        output = (before + rest).decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, output
    [events] = journals()
    assert finished(events, "step")["hangs"]["status"] == "aborted"
    assert finished(events, "teardown")["remove"]["status"] == "ok"
    assert [e.data["result"] for e in events if e.type == "session_ended"] == ["aborted"]
    assert not box.exists() and port_closed(port)
    assert "tearing the scenario down" in output and "Traceback" not in output
