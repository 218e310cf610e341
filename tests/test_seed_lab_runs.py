"""Local steps of the seed runbooks that reach hosts (scp) trust only the session's ssh_config and
known_hosts. The seeds' whole plans run for real in ``test_seed_whole_plans_lab.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lab.sshd import SshLab

pytestmark = pytest.mark.lab

RUNBOOKS = Path(__file__).resolve().parent.parent / "runbooks"


SCP = """schema = 1
id = "scp"
title = "a local scp trusts the session's host keys"
service = "svc"

[plans.A]
title = "copy"
[[plans.A.steps]]
id = "fetch"
kind = "local"
run = 'scp -F "$RBCONSOLE_SSH_CONFIG" -o UserKnownHostsFile="$RBCONSOLE_KNOWN_HOSTS" -o BatchMode=yes -o StrictHostKeyChecking=yes alpha:{src} {dest}'
"""


def test_a_local_scp_uses_the_sessions_ssh_config_and_known_hosts(ssh_lab: SshLab, tmp_path: Path) -> None:
    src, dest = tmp_path / "backup.py", tmp_path / "fetched.py"
    src.write_text("restored = True\n", encoding="utf-8")
    runbook = tmp_path / "scp.toml"
    runbook.write_text(SCP.format(src=src, dest=dest), encoding="utf-8")
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("", encoding="utf-8")

    def run(known_hosts: Path) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "tui", "run", str(runbook), "--plan", "A", "--yes",
                "--ssh-config", str(ssh_lab.config), "--known-hosts", str(known_hosts)]  # fmt: skip
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    refused = run(empty)  # the lab's ssh_config names its own known_hosts: the flag must win
    assert refused.returncode == 1 and not dest.exists()
    assert "Host key verification failed" in refused.stdout + refused.stderr
    done = run(ssh_lab.known_hosts)
    assert done.returncode == 0, done.stdout + done.stderr
    assert dest.read_text(encoding="utf-8") == "restored = True\n"


def test_relative_ssh_flags_mean_the_operators_directory_in_a_local_step_with_its_own_cwd(
    ssh_lab: SshLab, tmp_path: Path
) -> None:
    """``--ssh-config run/ssh_config`` is relative to where the operator typed it, not to a local
    step's ``cwd`` (seed 004's scp steps run in the deploy checkout)."""
    src, elsewhere = tmp_path / "backup.py", tmp_path / "deploy"
    src.write_text("restored = True\n", encoding="utf-8")
    elsewhere.mkdir()
    runbook = tmp_path / "scp.toml"
    runbook.write_text(SCP.format(src=src, dest="fetched.py") + f'cwd = "{elsewhere}"\n', encoding="utf-8")
    argv = [sys.executable, "-m", "tui", "run", str(runbook), "--plan", "A", "--yes",
            "--ssh-config", os.path.relpath(ssh_lab.config, ssh_lab.dir.parent),
            "--known-hosts", os.path.relpath(ssh_lab.known_hosts, ssh_lab.dir.parent)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          cwd=ssh_lab.dir.parent)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (elsewhere / "fetched.py").read_text(encoding="utf-8") == "restored = True\n"
