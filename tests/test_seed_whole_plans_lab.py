"""Every seed runbook runs a whole plan for real in the lab: ``rbconsole run --profile lab`` (the
operator's command line, headless) against the seed service host (:mod:`tests.lab.hostlab`: its
sshd, its service-manager stand-ins, the seed's service as a real process), PostgreSQL, git
repos with the runbook's tags and Prometheus. Each test checks the journal (every pre-check,
step and verification ok, the end state success, no production target), the record (it names
the lab targets) and the service's own state afterwards (the restart really happened: a new
process serving what the plan restored). Each prints its duration against the plan's target
(``pytest -s``): the seeds' "lab run" figures.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lab.hostlab import SeedHost
from tests.seed_support import RUNBOOKS
from tui.engine import events as ev
from tui.engine.journal import Event, read_events

pytestmark = pytest.mark.lab

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots" / "test_seed_whole_plans_lab"


@dataclass
class Run:
    done: subprocess.CompletedProcess[str]
    events: list[Event]
    record: str
    journal: str

    def finished(self, phase: str) -> dict[str, str]:
        """id -> status of the last attempt of every check/step of ``phase`` ("pre", "step", "verify")."""
        return {e.data["id"]: e.data["status"] for e in self.events
                if e.type in (ev.CHECK_FINISHED, ev.STEP_FINISHED) and e.data["phase"] == phase}  # fmt: skip

    def skipped(self) -> dict[str, str]:
        return {e.data["id"]: e.data["reason"] for e in self.events if e.type == ev.STEP_SKIPPED}

    @property
    def started(self) -> dict[str, object]:
        return self.events[0].data

    @property
    def ended(self) -> dict[str, object]:
        return next(e for e in self.events if e.type == ev.SESSION_ENDED).data

    def figure(self, seed: str, plan: str, target_minutes: float) -> None:
        seconds = self.ended["plan_seconds"] or self.ended["duration"]
        ratio = float(seconds) / (target_minutes * 60)  # type: ignore[arg-type]
        print(json.dumps({"seed": seed, "plan": plan, "seconds": seconds, "target_minutes": target_minutes,
                          "ratio_to_target": round(ratio, 4)}, ensure_ascii=False))  # fmt: skip


def run_seed(
    host: SeedHost,
    home: Path,
    tmp_path: Path,
    runbook: str,
    plan: str,
    values: dict[str, str],
    *extra: str,
    env: dict[str, str] | None = None,
    operator: str = "值班-李",
) -> Run:
    record = tmp_path / "record.md"
    argv = [
        sys.executable, "-m", "tui", "--operator", operator, "run", str(RUNBOOKS / runbook), "--plan", plan,
        "--profile", "lab", "--yes", "--record", str(record),
        "--ssh-config", str(host.ssh.config), "--known-hosts", str(host.ssh.known_hosts),
        *(arg for name, value in values.items() for arg in ("--var", f"{name}={value}")), *extra,
    ]  # fmt: skip
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=240, env=host.env(**(env or {})), stdin=subprocess.DEVNULL
    )
    sessions = sorted((home / "sessions").iterdir())
    assert len(sessions) == 1, (sessions, done.stdout[-3000:], done.stderr[-3000:])
    journal = sessions[0] / "journal.jsonl"
    text = record.read_text(encoding="utf-8") if record.exists() else ""
    return Run(done, read_events(journal), text, journal.read_text(encoding="utf-8"))


def assert_all_ok(run: Run, steps: list[str], verify: list[str], *, not_sent: tuple[str, ...] = ()) -> None:
    out = run.done.stdout[-4000:] + run.done.stderr[-3000:]
    assert run.done.returncode == 0, out
    assert "== result: SUCCESS" in run.done.stdout, out
    assert run.ended["result"] == "success"
    pre = run.finished("pre")
    assert pre and set(pre.values()) == {"ok"}, {k: v for k, v in pre.items() if v != "ok"}
    # A notify step with no webhook is printed for the operator to send, and says so: never "ok".
    assert run.finished("step") == {s: "not_sent" if s in not_sent else "ok" for s in steps}
    assert run.finished("verify") == dict.fromkeys(verify, "ok")
    assert_lab_only(run)


def assert_lab_only(run: Run, ssh_port: int | None = None) -> None:
    """Nothing production was in reach: the fence found no production target, every command went
    to the lab sshd (as the session resolved the host), every URL and DSN to 127.0.0.1."""
    assert run.started["profile"] == "lab"
    targets = run.started["targets"]
    assert isinstance(targets, dict) and targets["production"] == [], targets
    port = str(ssh_port) if ssh_port else r"\d+"
    for e in run.events:
        if e.type in (ev.STEP_STARTED, ev.CHECK_STARTED) and e.data["kind"] == "ssh":
            for line in e.data["describe"]:
                assert re.match(rf"\[\w+\] \w+@127\.0\.0\.1:{port} \$ ", line), line
        if e.type in (ev.STEP_FINISHED, ev.CHECK_FINISHED) and e.data.get("where"):
            assert re.match(r"(https?://)?127\.0\.0\.1[:/]", e.data["where"]), e.data["where"]


# --- seed 004: meiyueart, plan auto (redeploy by script, or restore on the server) ---------------

BACKUP = "20260222_101500"


def meiyueart_lab(host: SeedHost, tmp_path: Path, script_works: bool) -> dict[str, str]:
    """The document's server: daily backups in ~/backups (an older one and the newest), the
    crontab that makes them, the admin backend running the broken deployment under supervisor;
    the bastion's deploy checkout with deploy_now.sh."""
    for name, age in (("20260221_020000", 86400.0), (BACKUP, 600.0)):
        stored = host.home / "backups" / name
        stored.mkdir(parents=True)
        for py in ("user_system.py", "change_password.py"):
            (stored / py).write_text(f"# {py} from backup {name}\n", encoding="utf-8")
        when = time.time() - age
        os.utime(stored, (when, when))
    (host.root / "crontab").write_text("0 2 * * * ~/auto_backup.sh\n", encoding="utf-8")
    app = tmp_path / "server" / "admin-backend"
    (app / "routes").mkdir(parents=True)
    for py in ("user_system.py", "change_password.py"):
        (app / "routes" / py).write_text(f"# {py} deployed 20260223_090000 (broken)\n", encoding="utf-8")
    site = host.define("lingzhi_admin_backend", "meiyueart", "supervisor", app_dir=app)
    host.start("lingzhi_admin_backend")
    deploy = tmp_path / "bastion" / "deploy"
    (deploy / "admin-backend" / "routes").mkdir(parents=True)
    ssh = '-F "$RBCONSOLE_SSH_CONFIG" -o UserKnownHostsFile="$RBCONSOLE_KNOWN_HOSTS" -o BatchMode=yes'
    ship = (
        f"scp {ssh} admin-backend/routes/user_system.py admin-backend/routes/change_password.py rbconsole-lab:{app}/routes/\n"
        f"ssh {ssh} rbconsole-lab 'sudo -n supervisorctl restart lingzhi_admin_backend'\n"
    )
    broken = 'echo "deploy_now.sh: build failed: admin-backend/requirements.txt: no such file" >&2\nexit 1\n'
    (deploy / "deploy_now.sh").write_text(
        "#!/bin/sh\n# the lab's deploy script: ship admin-backend/routes to the server, restart the program\nset -e\n"
        'if [ "$1" = --dry-run ]; then echo "would ship admin-backend/routes"; exit 0; fi\n'
        + (ship if script_works else broken),
        encoding="utf-8",
    )
    (deploy / "deploy_now.sh").chmod(0o755)
    return {"site": site, "app_dir": str(app), "deploy_repo": str(deploy), "reason": "推荐人字段无法显示",
            "impact": "全部登录用户", "deployed_version": "20260223_090000"}  # fmt: skip


def normalized(text: str, tmp_path: Path, host: SeedHost) -> str:
    """The record with what differs run to run replaced: times, durations, the session id, paths
    and ports of this run's lab."""
    text = text.replace(str(tmp_path), "<tmp>").replace(str(host.home), "<home>").replace(str(host.root), "<lab>")
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
    text = re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( ?[+-]\d\d:?\d\d|Z)?", "<time>", text)
    text = re.sub(r"\b\d\d:\d\d:\d\d\b", "<clock>", text)
    text = re.sub(r"\d{8}-\d{6}-[0-9a-f]{6}", "<session>", text)
    text = re.sub(r"\bpid \d+", "pid <pid>", text)
    text = re.sub(r"uptime \d+:\d\d:\d\d", "uptime <uptime>", text)
    text = re.sub(r"\b\d+(\.\d+)? ?(ms|s)\b", "<duration>", text)
    # pre-checks run in parallel: the timeline lists them in the order they finished
    lines = text.split("\n")
    checks = [i for i, line in enumerate(lines) if line.startswith("- <clock> pre-check ")]
    for i, line in zip(checks, sorted(lines[i] for i in checks), strict=True):
        lines[i] = line
    return "\n".join(lines)


@pytest.mark.parametrize("script_works", [True, False], ids=["script", "by_hand"])
def test_seed_004_plan_auto_restores_the_backup_and_restarts_for_real(
    seed_host: SeedHost, rbconsole_home: Path, tmp_path: Path, script_works: bool
) -> None:
    values = meiyueart_lab(seed_host, tmp_path, script_works)
    before = seed_host.process("lingzhi_admin_backend")
    assert before is not None and "broken" in str(before["version"])
    run = run_seed(seed_host, rbconsole_home, tmp_path, "meiyueart-deploy.toml", "auto", values)
    fetched = ["notify_team", "find_backup", "fetch_user_system", "fetch_change_password"]
    if script_works:
        assert_all_ok(run, [*fetched, "redeploy"], ["service_running", "health"], not_sent=("notify_team",))
        assert set(run.skipped()) == {"restore_on_server", "restart_on_server"}
    else:
        # the script failed: the plan went the document's other way, on the server by hand; the
        # alternative did the work, so the rollback succeeded, and the record says which way
        out = run.done.stdout[-4000:] + run.done.stderr[-2000:]
        assert run.done.returncode == 0 and run.ended["result"] == "success", out
        assert run.finished("step") == {
            "notify_team": "not_sent", **dict.fromkeys(fetched[1:], "ok"), "redeploy": "failed",
            "restore_on_server": "ok", "restart_on_server": "ok",
        }  # fmt: skip
        assert run.finished("verify") == {"service_running": "ok", "health": "ok"}
        assert set(run.finished("pre").values()) == {"ok"}
        assert "deploy_now.sh: build failed" in run.record
    after = seed_host.process("lingzhi_admin_backend")
    assert after is not None and after["pid"] != before["pid"]  # restarted, not the old process
    assert after["version"] == f"# user_system.py from backup {BACKUP}"  # serving the newest backup
    routes = Path(values["app_dir"]) / "routes"
    assert (routes / "change_password.py").read_text(encoding="utf-8") == f"# change_password.py from backup {BACKUP}\n"
    assert_lab_only(run, seed_host.ssh.servers["seedhost"].port)
    assert f"GET {values['site']}/api/health: HTTP 200" in run.record  # the record names the lab target
    run.figure("meiyueart-deploy", "auto" if script_works else "auto (by hand)", 15)
    if not script_works:
        expected = SNAPSHOTS / "seed004_record_by_hand.md"
        got = normalized(run.record, tmp_path, seed_host)
        if os.environ.get("RBCONSOLE_UPDATE_GOLDEN"):
            expected.parent.mkdir(parents=True, exist_ok=True)
            expected.write_text(got, encoding="utf-8")
        assert got == expected.read_text(encoding="utf-8")
