"""The built-in demo, end to end: ``rbconsole drill runbooks/demo.toml --headless --yes --record out.md``.

Everything is real: the sandbox's git repository, the detached demo-web process on a free
loopback port, HTTP verification. (The helpers here are shared by the other drill test modules.)
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RUNBOOKS
from tui.demo import sandbox as demo_sandbox
from tui.engine.events import Event
from tui.engine.journal import JOURNAL_NAME, read_events
from tui.engine.store import session_dirs

TIMEOUT = 180
DEMO = str(RUNBOOKS / "demo.toml")


@pytest.fixture(autouse=True)
def no_leftover_service(tmp_path: Path) -> Iterator[None]:
    """A failing test must not leave demo-web running: tear down any sandbox it made."""
    yield
    for name in ("sandbox", "sb"):
        with contextlib.suppress(demo_sandbox.SandboxError):
            demo_sandbox.teardown(tmp_path / name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rbconsole(
    *args: str, timeout: float = TIMEOUT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command line in a child process (RBCONSOLE_HOME comes from the test's environment)."""
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def demo_vars(sandbox: Path, port: int) -> list[str]:
    return ["--var", f"sandbox={sandbox}", "--var", f"port={port}"]


def get_json(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return json.load(response)


def port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def journals() -> list[list[Event]]:
    """Every recorded session's events, oldest session first (ids within one second sort at random)."""
    return sorted((read_events(d / JOURNAL_NAME) for d in session_dirs()), key=lambda events: events[0].ts)


def finished(events: list[Event], phase: str) -> dict[str, dict]:
    """id -> data of the last step/check_finished event of ``phase``."""
    out: dict[str, dict] = {}
    for event in events:
        if event.type in ("step_finished", "check_finished") and event.data.get("phase") == phase:
            out[event.data["id"]] = event.data
    return out


def test_demo_drill_rolls_back_verifies_tears_down_and_reports(tmp_path: Path) -> None:
    box, port, record = tmp_path / "sandbox", free_port(), tmp_path / "out.md"
    done = rbconsole("drill", DEMO, "--headless", "--yes", "--record", str(record), *demo_vars(box, port))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "== DRILL ==" in done.stdout
    assert "of 3m00s target" in done.stdout and "within target" in done.stdout

    [events] = journals()
    assert events[0].data["mode"] == "drill" and events[0].data["scenario"] == "bad-release"
    setup, steps, verify = finished(events, "setup"), finished(events, "step"), finished(events, "verify")
    teardown = finished(events, "teardown")
    assert [setup[s]["status"] for s in ("sandbox", "deploy-v2")] == ["ok", "ok"]
    assert list(steps) == ["announce", "was", "stop", "checkout", "restore", "start", "healthy", "tell-done"]
    assert all(s["status"] == "ok" for s in steps.values()), steps
    assert steps["was"]["captured"] == {"running": "v2"}
    assert {k: v["status"] for k, v in verify.items()} == {"version": "ok", "errors": "ok", "deployed": "ok"}
    assert teardown["remove"]["status"] == "ok"
    confirmations = [e.data for e in events if e.type == "confirmation"]
    assert any(c["id"] == "stop" and c["by"] == "--yes" for c in confirmations)
    assert [e.data["result"] for e in events if e.type == "session_ended"] == ["success"]

    assert not box.exists(), "teardown removes the sandbox"
    assert port_closed(port), "teardown stops demo-web"

    text = record.read_text(encoding="utf-8")
    assert "DRILL" in text.split("## DRILL report")[0], "the record itself is marked DRILL"
    report = text.split("## DRILL report", 1)[1]
    assert "3m00s target" in report and "| 4 | `checkout`" in report
    assert "First recorded drill" in report


def test_demo_plan_really_leaves_the_service_at_v1(tmp_path: Path) -> None:
    box, port = tmp_path / "sandbox", free_port()
    demo_sandbox.setup(box)
    try:
        demo_sandbox.start(box, port)
        assert get_json(port, "/version")["version"] == "v2"
        done = rbconsole(
            "run", DEMO, "--plan", "A", "--yes", *demo_vars(box, port), env={"RBCONSOLE_PYTHON": sys.executable}
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert get_json(port, "/version")["version"] == "v1"
        health = get_json(port, "/health")
        assert health["status"] == "ok" and health["error_rate"] < 0.01
        assert health["features"] == {"new_checkout": False}
    finally:
        demo_sandbox.teardown(box)


def test_demo_dry_run_touches_nothing(tmp_path: Path) -> None:
    box = tmp_path / "sandbox"
    done = rbconsole("drill", DEMO, "--headless", "--dry-run", "--yes", *demo_vars(box, free_port()))
    assert done.returncode == 0, done.stdout + done.stderr
    assert not box.exists()
    assert "tui.demo setup" in done.stdout, "a dry run shows the resolved commands"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "nope"], "scenario 'nope' is not defined (known: bad-release)"),
        (["--plan", "B", "--scenario", "bad-release"], "practises plan 'A', not 'B'"),
        (["--var", "novalue"], "write it as NAME=VALUE"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = rbconsole("drill", DEMO, "--headless", "--yes", *args)
    assert done.returncode == 2
    assert message in done.stderr and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_invalid_runbook_prints_its_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('schema = 1\nid = "x"\ntitle = "x"\nservice = "x"\n[plans.A]\ntitle = 3\n', encoding="utf-8")
    done = rbconsole("drill", str(broken), "--headless", "--yes")
    assert done.returncode == 2
    assert f"{broken}:6:" in done.stderr and "Traceback" not in done.stderr


def test_without_yes_and_without_a_terminal_the_destructive_step_waits_and_teardown_runs(tmp_path: Path) -> None:
    box, port = tmp_path / "sandbox", free_port()
    done = rbconsole("drill", DEMO, "--headless", *demo_vars(box, port))
    assert done.returncode == 1
    assert "needs confirmation" in done.stdout + done.stderr and "--yes" in done.stdout + done.stderr
    [events] = journals()
    steps = finished(events, "step")
    assert "stop" not in steps or steps["stop"]["status"] != "ok"
    assert "checkout" not in steps
    assert finished(events, "teardown")["remove"]["status"] == "ok"
    assert not box.exists() and port_closed(port)
