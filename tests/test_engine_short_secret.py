"""A secret too short to mask is said so at the start, in the journal and so in the record,
rather than silently left visible."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_engine_session import start, write_runbook
from tui.engine import events as ev
from tui.record import render_markdown

SECRETS = """
[secrets.pin]
env = "ENGINE_TEST_PIN"
[secrets.token]
env = "ENGINE_TEST_LONG"
[plans.A]
title = "uses both"
[[plans.A.steps]]
id = "use"
kind = "local"
run = "true"
"""


async def test_a_two_character_secret_is_warned_about_and_a_long_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGINE_TEST_PIN", "42")
    monkeypatch.setenv("ENGINE_TEST_LONG", "long-enough-token")
    session = start(write_runbook(tmp_path, SECRETS))
    await session.close()
    warnings = [e.data["message"] for e in session.events if e.type == ev.WARNING]
    assert warnings == ["secret pin is shorter than 3 characters: too short to mask, it may show in output"]
    assert "- warning: secret pin is shorter than 3 characters" in render_markdown(session.events)


def test_rbconsole_run_prints_the_warning(tmp_path: Path, rbconsole_home: Path) -> None:
    path = write_runbook(tmp_path, SECRETS)
    env = {**os.environ, "ENGINE_TEST_PIN": "7", "ENGINE_TEST_LONG": "long-enough-token"}
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(path), "--plan", "A"],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == (
        "warning: secret pin is shorter than 3 characters: too short to mask, it may show in output"
    )
