"""``rbconsole run`` with ssh steps against the lab: the executor inside the real engine and CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lab.sshd import SshLab

pytestmark = pytest.mark.lab

SECRET = "sekrit-7f3a9"

RUNBOOK = """schema = 1
id = "ssh-e2e"
title = "ssh e2e"
service = "svc"

[params.who]
prompt = "who"
default = "nobody"

[secrets.token]
env = "E2E_TOKEN"

[hosts.alpha]
address = "alpha"
[hosts.behind]
address = "behind"
[groups]
all = ["alpha", "behind"]

[plans.A]
title = "fan out, then fail"
[[plans.A.steps]]
id = "hello"
title = "hello everywhere"
kind = "ssh"
group = "all"
batch = 1
run = "echo hello {{ who }}; echo token={{ token }}"
[[plans.A.steps]]
id = "fail"
title = "a failing step"
kind = "ssh"
host = "alpha"
run = "echo bye; exit 4"
"""


def rbconsole_run(ssh_lab: SshLab, tmp_path: Path, known_hosts: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    runbook = tmp_path / "ssh-e2e.toml"
    runbook.write_text(RUNBOOK)
    env = {**os.environ, "E2E_TOKEN": SECRET}
    command = [sys.executable, "-m", "tui", "run", str(runbook), "--plan", "A", "--yes", "--operator", "tester"]
    command += ["--ssh-config", str(ssh_lab.config), "--known-hosts", str(known_hosts), *extra]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_run_fans_out_through_a_jump_and_records_every_host(
    ssh_lab: SshLab, tmp_path: Path, rbconsole_home: Path
) -> None:
    record = tmp_path / "record.md"
    result = rbconsole_run(ssh_lab, tmp_path, ssh_lab.known_hosts, "--var", "who=it's me", "--record", str(record))
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "[alpha] hello it's me" in out and "[behind] hello it's me" in out
    assert "[alpha] bye" in out
    assert "exit status 4" in out + result.stderr
    text = record.read_text()
    assert "| alpha |" in text and "| behind |" in text
    assert "| 4 | failed" in text
    for where in (out, result.stderr, text):
        assert SECRET not in where
    for path in rbconsole_home.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path


def test_an_unknown_host_key_stops_the_run_with_one_line(ssh_lab: SshLab, tmp_path: Path, rbconsole_home: Path) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    result = rbconsole_run(ssh_lab, tmp_path, empty)
    assert result.returncode == 1
    both = result.stdout + result.stderr
    assert "unknown host key" in both and "ssh-keyscan -p" in both
    assert "Traceback" not in both
    assert "[alpha] hello" not in result.stdout and "[behind] hello" not in result.stdout
