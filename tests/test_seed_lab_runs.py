"""Seed runbooks run for real in the lab, through their ``lab`` profile (fenced: kind = "lab"):
pre-checks over SSH on the lab sshd aliases, the plan's steps against the lab service, every
verification passing, and the service's own state checked afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lab.prometheus import PromLab
from tests.lab.services import WechatBackend
from tests.lab.sshd import SshLab
from tui.engine.journal import read_events

pytestmark = pytest.mark.lab

RUNBOOKS = Path(__file__).resolve().parent.parent / "runbooks"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=30)


def _wechat_host(root: Path) -> dict[str, Path]:
    """What the document's host has: the app checkout with its v1.0.0 tag, a recent non-empty
    database backup, the rollback scripts (the .sh ones executable)."""
    app, backups = root / "app", root / "backups"
    scripts = app / "scripts" / "rollback"
    scripts.mkdir(parents=True)
    backups.mkdir()
    (backups / "diagnosis_20260101_020000.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    (scripts / "rollback_feature_flags.py").write_text("print('flags')\n")
    for name in ("rollback_database.sh", "rollback_code.sh"):
        (scripts / name).write_text("#!/bin/sh\nexit 0\n")
        (scripts / name).chmod(0o755)
    _git(app, "init", "-q")
    _git(app, "add", "-A")
    _git(app, "-c", "user.name=lab", "-c", "user.email=lab@localhost", "commit", "-q", "-m", "v1")
    _git(app, "tag", "v1.0.0")
    _git(app, "tag", "v2.0.0-phase1")  # plan A leaves v2's code in place (flags off): its target_version
    return {"app_dir": app, "backup_dir": backups, "rollback_scripts": scripts}


def test_wechat_plan_a_switches_the_v2_flags_off_for_real(
    wechat_backend: WechatBackend, ssh_lab: SshLab, prom: PromLab, tmp_path: Path, rbconsole_home: Path
) -> None:
    paths = _wechat_host(tmp_path / "host")
    record = tmp_path / "record.md"
    argv = [
        sys.executable, "-m", "tui", "--operator", "值班-李", "run", str(RUNBOOKS / "wechat-backend-phase1.toml"),
        "--plan", "A", "--profile", "lab", "--yes", "--reason", "v2 诊断失败率 23%", "--record", str(record),
        "--ssh-config", str(ssh_lab.config), "--known-hosts", str(ssh_lab.known_hosts),
        "--var", f"api={wechat_backend.base}", "--var", f"admin_api={wechat_backend.base}",
        "--var", f"prometheus={prom.url}",
        *(arg for name, path in paths.items() for arg in ("--var", f"{name}={path}")),
    ]  # fmt: skip
    env = {**os.environ, "WECHAT_BACKEND_ADMIN_KEY": wechat_backend.admin_key}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "== result: SUCCESS" in done.stdout

    # The service's own state: every v2 flag off, the v1 diagnosis run and its report read.
    assert not any(wechat_backend.flags.values())
    assert ("POST", "/api/admin/feature-flags") in wechat_backend.requests
    assert ("GET", "/api/diagnostic/tasks/exec-2/report") in wechat_backend.requests

    (session,) = (rbconsole_home / "sessions").iterdir()
    events = read_events(session / "journal.jsonl")
    finished = {(e.data["phase"], e.data["id"]): e.data["status"] for e in events if "status" in e.data}
    verify = {k[1]: v for k, v in finished.items() if k[0] == "verify"}
    assert verify == dict.fromkeys(
        ["v1_diagnosis_starts", "diagnosis_completes", "report_available", "error_rate_normal", "flags_are_off"], "ok"
    )
    steps = {k[1]: v for k, v in finished.items() if k[0] == "step"}
    # The document's notice has no webhook: printed for the operator to send, and said so.
    assert steps == {"notify": "not_sent", "flags_off": "ok", "version": "ok", "v1_works": "ok", "metrics": "ok"}
    for blocking in ("backup_recent", "backup_size", "scripts", "target_tag"):
        assert finished[("pre", blocking)] == "ok", blocking
    started = events[0].data
    assert started["profile"] == "lab" and started["operator"] == "值班-李"
    assert started["targets"]["production"] == []
    assert wechat_backend.admin_key not in (session / "journal.jsonl").read_text(encoding="utf-8")
    assert wechat_backend.admin_key not in done.stdout + record.read_text(encoding="utf-8")
    seconds = next(e for e in events if e.type == "session_ended").data["duration"]
    print(json.dumps({"seed": "wechat-backend-phase1", "plan": "A", "seconds": seconds, "target_minutes": 1}))


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
