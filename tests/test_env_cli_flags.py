"""Global flags on either side of the subcommand; the console, open, drill and resume take the
same targeting flags as run, and the incident form shows what they set."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Select, Static

from tests.tui_helpers import fixed_clock, settle
from tui.app import create_app
from tui.cli import parse_args
from tui.commands.options import start_options
from tui.engine.journal import read_events
from tui.engine.session import Session, StartOptions
from tui.headless.runner import resume_headless
from tui.runbook.loader import load_or_raise

RUNBOOK = """schema = 1
id = "flags"
title = "flags test"
service = "svc"

[params.reason]
required = true

[params.pin]
secret = true
required = true

[vars]
api = "http://prod.example:8080"
mark = "{{ api }}"

[profiles.lab]
title = "the lab"
vars = { api = "http://127.0.0.1:9" }

[plans.A]
title = "echo"
[[plans.A.steps]]
id = "say"
kind = "local"
run = "echo api={{ api }}"
[[plans.A.steps]]
id = "stop"
kind = "manual"
"""

GLOBAL = [
    ("--operator", "alice", "operator"),
    ("--ssh-config", "/etc/lab_ssh_config", "ssh_config"),
    ("--known-hosts", "/etc/lab_known_hosts", "known_hosts"),
]


@pytest.mark.parametrize("command", [["run", "F"], ["drill", "F"], ["open", "F"], ["resume", "S"], ["sessions"]])
@pytest.mark.parametrize(("flag", "value", "dest"), GLOBAL)
def test_global_flags_on_either_side(command: list[str], flag: str, value: str, dest: str) -> None:
    before = parse_args([flag, value, *command])
    after = parse_args([*command, flag, value])
    assert getattr(before, dest) == getattr(after, dest) == value
    both = parse_args([flag, "first", *command, flag, value])
    assert getattr(both, dest) == value  # the nearer one wins, as with any repeated option
    neither = parse_args(command)
    assert getattr(neither, dest) is None


def test_repeatable_flags_from_both_sides_add_up() -> None:
    args = parse_args(["--runbooks", "a", "--var", "x=1", "open", "F", "--runbooks", "b", "--var", "y=2"])
    assert args.runbooks == ["a", "b"]
    assert args.var == ["x=1", "y=2"]
    assert parse_args(["run", "F"]).runbooks == [] and parse_args(["run", "F"]).var == []


@pytest.mark.parametrize("command", [["validate", "F"], ["export", "S"], ["schema"]])
def test_targeting_flags_are_refused_where_they_mean_nothing(command: list[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        parse_args(["--var", "a=1", *command])
    assert raised.value.code == 2


@pytest.mark.parametrize("command", [[], ["open", "F"], ["drill", "F"], ["resume", "S"], ["run", "F"]])
def test_console_commands_take_the_targeting_flags(command: list[str]) -> None:
    args = parse_args([*command, "--var", "api=http://lab:1", "--profile", "lab", "--ssh-config", "C"])
    assert (args.var, args.profile, args.ssh_config) == (["api=http://lab:1"], "lab", "C")


def test_operator_before_the_command_names_the_record(tmp_path: Path) -> None:
    path = tmp_path / "flags.toml"
    path.write_text(RUNBOOK.replace('[[plans.A.steps]]\nid = "stop"\nkind = "manual"\n', ""), encoding="utf-8")
    env = {**os.environ}
    for argv in (
        ["--operator", "alice", "run", str(path), "--plan", "A", "--yes"],
        ["run", str(path), "--plan", "A", "--yes", "--operator", "bob"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "tui", *argv, "--var", "reason=r", "--var", "pin=1234", "--profile", "lab"],
            capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "api=http://127.0.0.1:9" in done.stdout
    sessions = sorted((Path(os.environ["RBCONSOLE_HOME"]) / "sessions").iterdir())
    operators = [read_events(s / "journal.jsonl")[0].data["operator"] for s in sessions]
    assert sorted(operators) == ["alice", "bob"]


async def test_the_form_shows_and_uses_what_the_flags_set(tmp_path: Path) -> None:
    path = tmp_path / "flags.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    files = ["--ssh-config", str(tmp_path / "cfg"), "--known-hosts", str(tmp_path / "kh"), "--operator", "carol"]
    args = parse_args(
        ["open", str(path), "--var", "api=http://127.0.0.1:7", "--var", "reason=lab try", "--profile", "lab", *files]
    )
    app = create_app(path, start=start_options(args), clock=fixed_clock)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        shown = str(app.screen.query_one("#start-given", Static).render())
        assert "--var api=http://127.0.0.1:7" in shown
        assert f"ssh config: {tmp_path / 'cfg'}" in shown and f"known hosts: {tmp_path / 'kh'}" in shown
        assert app.screen.query_one("#start-profile", Select).value == "lab"
        await pilot.click("#param-pin")
        await pilot.press(*"4321")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.session is not None
        meta = app.session.state.meta
        assert (meta["operator"], meta["profile"], meta["reason"]) == ("carol", "lab", "lab try")
        assert app.session._values.ssh.config == str(tmp_path / "cfg")
        assert app.session._values.ssh.known_hosts == str(tmp_path / "kh")
        assert app.session._scope["mark"].text == "http://127.0.0.1:7"  # --var beats the profile


def test_resume_takes_a_secret_param_again_but_cannot_change_the_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "flags.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    options = StartOptions(values={"reason": "r", "pin": "pin-7Qz9"}, profile="lab", plan="A")
    session = Session.start(load_or_raise(path), str(path), options)
    asyncio.run(session.close())  # as if the process died after the start
    ref = session.id

    out = io.StringIO()

    def resume(**kw: object) -> int:
        return asyncio.run(resume_headless(ref, yes=True, out=out, **kw))  # type: ignore[arg-type]

    assert resume() == 2
    assert "secret param 'pin' is never stored: resume with --var pin=VALUE" in capsys.readouterr().err
    assert resume(values={"pin": "pin-7Qz9"}, profile="staging") == 2
    assert "ran with profile 'lab'; a resume cannot change it to 'staging'" in capsys.readouterr().err
    assert resume(values={"pin": "pin-7Qz9", "api": "http://elsewhere:1"}) == 2
    assert "cannot change it" in capsys.readouterr().err
    assert resume(values={"pin": "pin-7Qz9"}, profile="lab") == 0
    assert "api=http://127.0.0.1:9" in out.getvalue()
    journal = (session.dir / "journal.jsonl").read_text(encoding="utf-8")
    assert "pin-7Qz9" not in journal
    assert json.loads(journal.splitlines()[0])["data"]["profile"] == "lab"
