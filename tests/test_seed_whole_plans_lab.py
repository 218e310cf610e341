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
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lab.hostlab import SeedHost
from tests.lab.prometheus import PromLab
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

    def figure(self, seed: str, plan: str, target_minutes: float | None) -> None:
        """Print the plan's duration beside its target, and what the fence counted (the closing
        note's figures: ``pytest -s``)."""
        seconds = float(self.ended["plan_seconds"] or self.ended["duration"])  # type: ignore[arg-type]
        ratio = round(seconds / (target_minutes * 60), 4) if target_minutes else None
        targets = self.started["targets"]
        assert isinstance(targets, dict)
        figure = {"seed": seed, "plan": plan, "seconds": seconds, "target_minutes": target_minutes,
                  "ratio_to_target": ratio, "targets_fenced": targets["fenced"], "targets_shared": len(targets["shared"])}  # fmt: skip
        print(json.dumps(figure, ensure_ascii=False))


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


def meiyueart_lab(host: SeedHost, tmp_path: Path, script_works: bool, broken_backup: bool = False) -> dict[str, str]:
    """The document's server: daily backups in ~/backups (an older one and the newest), the
    crontab that makes them, the admin backend running the broken deployment under supervisor;
    the bastion's deploy checkout with deploy_now.sh."""
    for name, age in (("20260221_020000", 86400.0), (BACKUP, 600.0)):
        stored = host.home / "backups" / name
        stored.mkdir(parents=True)
        for py in ("user_system.py", "change_password.py"):
            (stored / py).write_text(f"# {py} from backup {name}\n", encoding="utf-8")
        if broken_backup and name == BACKUP:  # a backup taken of a half-written file
            (stored / "user_system.py").write_text(f"# user_system.py from backup {name}\ndef routes(:\n")
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
    if not script_works:  # the whole record, as the template shapes it, filled from this run
        expected = SNAPSHOTS / "seed004_record_by_hand.md"
        got = normalized(run.record, tmp_path, seed_host)
        if os.environ.get("RBCONSOLE_UPDATE_GOLDEN"):
            expected.parent.mkdir(parents=True, exist_ok=True)
            expected.write_text(got, encoding="utf-8")
        assert got == expected.read_text(encoding="utf-8")


def test_seed_004_when_the_rollback_fails_escalation_to_the_documents_contacts_is_due(
    seed_host: SeedHost, rbconsole_home: Path, tmp_path: Path
) -> None:
    """如果回滚失败或出现严重问题：立即联系 — the script fails, and the newest backup does not
    start either: the restart fails for real, the service stays down, and the journal and the
    record say escalation to 运维团队 then 紧急支持 is due."""
    values = meiyueart_lab(seed_host, tmp_path, script_works=False, broken_backup=True)
    run = run_seed(seed_host, rbconsole_home, tmp_path, "meiyueart-deploy.toml", "auto", values)
    assert run.done.returncode == 1 and run.ended["result"] == "failed", run.done.stdout[-3000:]
    steps = run.finished("step")
    assert (steps["redeploy"], steps["restore_on_server"], steps["restart_on_server"]) == ("failed", "ok", "failed")
    assert seed_host.process("lingzhi_admin_backend") is None  # down: the restart did not come back
    assert "SyntaxError" in run.record
    due = [
        (e.data["reason"], [c["role"] for c in e.data["contacts"]]) for e in run.events if e.type == ev.ESCALATION_DUE
    ]
    assert due == [("failed", ["运维团队", "紧急支持"])]
    assert "escalation due (step restart_on_server failed" in run.record
    assert "call 运维团队 (ops@meiyueart.com); then 紧急支持 (emergency@meiyueart.com)" in run.record


# --- seed 000: partytix, plan downtime (the emergency plan) ------------------------------------


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30)
    return done.stdout.strip()


def partytix_lab(host: SeedHost, tmp_path: Path) -> dict[str, str]:
    """The docker-compose host: the repo (main: the old monolith commit, then the separation),
    its npm scripts checking the running services, backend and frontend up under compose."""
    repo = tmp_path / "partytix"
    repo.mkdir()
    backend = host.define("backend", "partytix-backend", "compose", app_dir=repo, project=str(repo))
    frontend = host.define("frontend", "partytix-frontend", "compose", app_dir=repo, project=str(repo))
    host.define("partytix-frontend", "partytix-frontend", "kube", context="rbconsole-lab", service="partytix-frontend")
    (host.state("backend") / "smoke_password").write_text("lab-smoke-5c2e", encoding="utf-8")
    check = f"curl -fsS {backend}/health && curl -fsS {frontend}/health"
    scripts = {name: check for name in
               ("validate:env", "check:data-consistency", "test:api-compatibility", "test:alerts", "test:smoke")}  # fmt: skip
    git(repo, "init", "-q", "-b", "main")
    (repo / "package.json").write_text(json.dumps({"name": "partytix", "private": True, "scripts": scripts}))
    (repo / ".npmrc").write_text("update-notifier=false\nfund=false\naudit=false\n")
    (repo / "docker-compose.yml").write_text("services:\n  backend: {build: .}\n  frontend: {build: .}\n")
    (repo / "VERSION").write_text("1.0.0-monolith\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=lab", "-c", "user.email=lab@localhost", "commit", "-qm", "monolith")
    old = git(repo, "rev-parse", "HEAD")
    (repo / "VERSION").write_text("1.1.0-separated\n")
    git(repo, "-c", "user.name=lab", "-c", "user.email=lab@localhost", "commit", "-qam", "separate the front end")
    host.start("backend")
    host.start("frontend")
    return {"backend_url": backend, "frontend_url": frontend, "deploy_dir": str(repo), "repo_dir": str(repo),
            "reason": "分离后后端不可用", "scope": "整个系统", "old_commit": old[:10]}  # fmt: skip


def test_seed_000_plan_downtime_stops_restores_and_restarts_for_real(
    seed_host: SeedHost, rbconsole_home: Path, tmp_path: Path
) -> None:
    values = partytix_lab(seed_host, tmp_path)
    before = seed_host.process("backend")
    assert before is not None and before["version"] == "1.1.0-separated"
    run = run_seed(seed_host, rbconsole_home, tmp_path, "partytix-risk.toml", "downtime", values,
                   env={"PARTYTIX_SMOKE_PASSWORD": "lab-smoke-5c2e"})  # fmt: skip
    steps = ["notify", "old_commit_exists", "stop", "restore", "start", "wait_up"]
    assert_all_ok(run, steps, ["smoke"], not_sent=("notify",))
    assert_lab_only(run, seed_host.ssh.servers["seedhost"].port)
    repo = Path(values["deploy_dir"])
    assert git(repo, "rev-parse", "HEAD").startswith(values["old_commit"])
    for service in ("backend", "frontend"):
        after = seed_host.process(service)
        assert after is not None and after["pid"] != before["pid"] and after["version"] == "1.0.0-monolith"
    assert "lab-smoke-5c2e" not in run.journal + run.record + run.done.stdout
    assert f"GET {values['backend_url']}/health: HTTP 200" in run.record
    run.figure("partytix-risk", "downtime", None)  # the document gives no target time


def test_seed_000_downtime_without_an_old_commit_stops_before_anything_goes_down(
    seed_host: SeedHost, rbconsole_home: Path, tmp_path: Path
) -> None:
    values = partytix_lab(seed_host, tmp_path)
    del values["old_commit"]
    before = {s: seed_host.process(s) for s in ("backend", "frontend")}
    run = run_seed(seed_host, rbconsole_home, tmp_path, "partytix-risk.toml", "downtime", values,
                   env={"PARTYTIX_SMOKE_PASSWORD": "lab-smoke-5c2e"})  # fmt: skip
    assert run.done.returncode == 1, run.done.stdout[-3000:]
    assert run.finished("step") == {"notify": "not_sent", "old_commit_exists": "error"}  # stopped before it ran
    assert "param 'old_commit' is empty" in run.done.stdout + run.done.stderr
    assert {s: seed_host.process(s) for s in before} == before  # both still up, the same processes
    assert "stop" not in {e.data["id"] for e in run.events if e.type == ev.STEP_STARTED}


# --- seed 001: wechat-backend, plan A (feature flags off) and plan B (code back to v1.0.0) -------

ADMIN_KEY = "lab-admin-key-5d1e"


def wechat_lab(host: SeedHost, tmp_path: Path) -> dict[str, str]:
    """The document's host: the app checkout (v1.0.0 and v2.0.0-phase1 tagged, v2 checked out,
    VERSION saying which), the SQLite database and a recent non-empty backup of it, the rollback
    scripts (the .sh ones executable), Redis; the service running v2 with its v2 flags on."""
    root = tmp_path / "host"
    app, backups, staging = root / "app", root / "backups", root / "staging"
    scripts = app / "scripts" / "rollback"
    for path in (scripts, backups, staging, root / "log"):
        path.mkdir(parents=True)
    with sqlite3.connect(staging / "diagnosis.db") as db:
        db.execute("CREATE TABLE tasks (id TEXT PRIMARY KEY)")
    (backups / "diagnosis_20260101_020000.db").write_bytes((staging / "diagnosis.db").read_bytes())
    (scripts / "rollback_feature_flags.py").write_text("print('flags')\n")
    for name in ("rollback_database.sh", "rollback_code.sh"):
        (scripts / name).write_text("#!/bin/sh\nexit 0\n")
        (scripts / name).chmod(0o755)
    git(app, "init", "-q")
    for version in ("v1.0.0", "v2.0.0-phase1"):
        (app / "VERSION").write_text(version + "\n")
        git(app, "add", "-A")
        git(app, "-c", "user.name=lab", "-c", "user.email=lab@localhost", "commit", "-q", "-m", version)
        git(app, "tag", version)
    api = host.define("wechat-backend", "wechat", "systemd", app_dir=app)
    (host.state("wechat-backend") / "admin_key").write_text(ADMIN_KEY)
    host.define("redis", "redis", "systemd")
    host.start("wechat-backend")
    host.start("redis")
    return {"api": api, "admin_api": api, "app_dir": str(app), "backup_dir": str(backups),
            "db_path": str(staging / "diagnosis.db"), "log_dir": str(root / "log"),
            "rollback_scripts": str(scripts), "reason": "v2 诊断失败率 23%", "impact": "60% 用户"}  # fmt: skip


def wechat_flags(host: SeedHost) -> dict[str, bool]:
    return json.loads((host.state("wechat-backend") / "flags.json").read_text())


def test_seed_001_plan_a_switches_the_v2_flags_off_for_real(
    seed_host: SeedHost, prom: PromLab, rbconsole_home: Path, tmp_path: Path
) -> None:
    values = wechat_lab(seed_host, tmp_path) | {"prometheus": prom.url}
    run = run_seed(seed_host, rbconsole_home, tmp_path, "wechat-backend-phase1.toml", "A", values,
                   env={"WECHAT_BACKEND_ADMIN_KEY": ADMIN_KEY})  # fmt: skip
    steps = ["notify", "admin_api_reachable", "flags_off", "version", "v1_works", "metrics"]
    verify = ["v1_diagnosis_starts", "diagnosis_completes", "report_available", "error_rate_normal", "flags_are_off"]
    assert_all_ok(run, steps, verify, not_sent=("notify",))
    assert_lab_only(run, seed_host.ssh.servers["seedhost"].port)
    # the service's own state: every v2 flag off, the v1 diagnosis run and its report read
    assert not any(wechat_flags(seed_host).values())
    requests = seed_host.requests("wechat-backend")
    assert "POST /api/admin/feature-flags" in requests
    assert "GET /api/diagnostic/tasks/exec-2/report" in requests
    assert run.started["operator"] == "值班-李"
    assert ADMIN_KEY not in run.journal + run.record + run.done.stdout + run.done.stderr
    run.figure("wechat-backend-phase1", "A", 1)


def test_seed_001_plan_a_stops_before_the_flags_when_the_admin_api_is_not_the_service(
    seed_host: SeedHost, prom: PromLab, rbconsole_home: Path, tmp_path: Path
) -> None:
    """The document's admin_api (localhost:5000 on the bastion) answered by something else: plan A
    stops at its reachability step and switches nothing anywhere."""
    values = wechat_lab(seed_host, tmp_path) | {"prometheus": prom.url}
    elsewhere = seed_host.define("not-the-admin-api", "credit", "systemd")
    seed_host.start("not-the-admin-api")
    values["admin_api"] = elsewhere
    run = run_seed(seed_host, rbconsole_home, tmp_path, "wechat-backend-phase1.toml", "A", values,
                   env={"WECHAT_BACKEND_ADMIN_KEY": ADMIN_KEY})  # fmt: skip
    assert run.done.returncode == 1
    assert run.finished("step") == {"notify": "not_sent", "admin_api_reachable": "failed"}
    assert all(wechat_flags_or_default(seed_host).values())
    assert "POST /api/admin/feature-flags" not in seed_host.requests("not-the-admin-api")


def wechat_flags_or_default(host: SeedHost) -> dict[str, bool]:
    path = host.state("wechat-backend") / "flags.json"
    return json.loads(path.read_text()) if path.exists() else {"diagnosis_v2_enabled": True}


def test_seed_001_plan_b_checks_out_v1_and_restarts_for_real(
    seed_host: SeedHost, prom: PromLab, rbconsole_home: Path, tmp_path: Path
) -> None:
    values = wechat_lab(seed_host, tmp_path) | {"prometheus": prom.url}
    # plan B is for when the flags did not help: the v2 code itself is the problem (flags off)
    (seed_host.state("wechat-backend") / "flags.json").write_text(json.dumps(dict.fromkeys(
        ["diagnosis_v2_enabled", "diagnosis_v2_state_machine"], False)))  # fmt: skip
    before = seed_host.process("wechat-backend")
    assert before is not None and before["version"] == "v2.0.0-phase1"
    run = run_seed(seed_host, rbconsole_home, tmp_path, "wechat-backend-phase1.toml", "B", values)
    steps = ["notify", "checkout", "confirm_commit", "restart", "status", "version", "function"]
    assert_all_ok(run, steps, ["service_started", "version_is_v1", "v1_api_ok", "metrics_normal"], not_sent=("notify",))
    after = seed_host.process("wechat-backend")
    assert after is not None and after["pid"] != before["pid"] and after["version"] == "v1.0.0"
    assert git(Path(values["app_dir"]), "describe", "--tags", "--exact-match", "HEAD") == "v1.0.0"
    run.figure("wechat-backend-phase1", "B", 10)


# --- seed 002: shop, plan backend (4.2 后端服务回滚) ---------------------------------------------


def shop_lab(host: SeedHost, tmp_path: Path) -> dict[str, str]:
    """The app server: the backend checkout (v1.4.2 and v1.5.0 tagged, v1.5.0 running under pm2),
    its config, the backups the preparation asks for, the rollback script; MongoDB on the db host."""
    root = tmp_path / "server"
    backend, backups, fronts, nginx = root / "backend", root / "backups", root / "frontend-backups", root / "nginx"
    for path in (backend / "config", backend / "scripts", backups / "frontend_1.4.2", fronts / "shop-frontend-1.4.2",
                 nginx):  # fmt: skip
        path.mkdir(parents=True)
    (backups / "db_1.4.2.tar.gz").write_bytes(b"\x1f\x8b lab dump of db 1.4.2")
    (nginx / "nginx.conf.bak").write_text("events {}\n")
    (backend / ".env.production.bak").write_text("NODE_ENV=production\n")
    (backend / "scripts" / "database_backup.js").write_text("console.log('backup');\n")
    (backend / "rollback.sh").write_text("#!/bin/sh\nexit 0\n")
    (backend / "rollback.sh").chmod(0o755)
    (backend / ".npmrc").write_text("update-notifier=false\nfund=false\naudit=false\n")
    (backend / ".gitignore").write_text("config.bak/\nnode_modules/\n")
    git(backend, "init", "-q")
    for version, port in (("1.4.2", 5000), ("1.5.0", 5001)):
        (backend / "VERSION").write_text(f"v{version}\n")
        (backend / "config" / "default.json").write_text(json.dumps({"port": port, "version": version}))
        package = {"name": "shop-backend", "version": version, "private": True}
        (backend / "package.json").write_text(json.dumps(package))
        lock = {"name": "shop-backend", "version": version, "lockfileVersion": 3, "requires": True,
                "packages": {"": {"name": "shop-backend", "version": version}}}  # fmt: skip
        (backend / "package-lock.json").write_text(json.dumps(lock))
        git(backend, "add", "-A")
        git(backend, "-c", "user.name=lab", "-c", "user.email=lab@localhost", "commit", "-q", "-m", version)
        git(backend, "tag", f"v{version}")
    api = host.define("shop-backend", "shop", "pm2", app_dir=backend)
    (host.state("shop-backend") / "test_password").write_text("lab-shop-pw-91b")
    host.define("mongodb", "mongodb", "systemd")
    host.start("shop-backend")
    host.start("mongodb")
    return {"api": api, "site": api, "backend_dir": str(backend), "backup_dir": str(backups),
            "frontend_backup_dir": str(fronts), "nginx_dir": str(nginx), "rollback_script": str(backend / "rollback.sh"),
            "repo_dir": str(backend), "rollback_version": "1.4.2", "reason": "下单接口报错", "scope": "全部用户"}  # fmt: skip


def test_seed_002_plan_backend_checks_out_the_tag_and_restarts_for_real(
    seed_host: SeedHost, prom: PromLab, rbconsole_home: Path, tmp_path: Path
) -> None:
    values = shop_lab(seed_host, tmp_path) | {"prometheus": prom.url}
    before = seed_host.process("shop-backend")
    assert before is not None and before["version"] == "v1.5.0"
    run = run_seed(seed_host, rbconsole_home, tmp_path, "shop-rollback.toml", "backend", values,
                   env={"SHOP_TEST_PASSWORD": "lab-shop-pw-91b"})  # fmt: skip
    steps = ["announce", "confirm_version", "save_config", "checkout", "restore_config", "npm_ci", "restart", "status"]
    assert_all_ok(run, steps, ["pm2_online", "health", "login", "products"], not_sent=("announce",))
    assert_lab_only(run, seed_host.ssh.servers["seedhost"].port)
    after = seed_host.process("shop-backend")
    assert after is not None and after["pid"] != before["pid"] and after["version"] == "v1.4.2"
    backend = Path(values["backend_dir"])
    assert git(backend, "describe", "--tags", "--exact-match", "HEAD") == "v1.4.2"
    # 执行 3: the configuration recorded before the checkout is the one in place after it
    assert json.loads((backend / "config" / "default.json").read_text())["version"] == "1.5.0"
    assert "POST /api/auth/login" in seed_host.requests("shop-backend")
    assert "lab-shop-pw-91b" not in run.journal + run.record + run.done.stdout + run.done.stderr
    run.figure("shop-rollback", "backend", 10)


# --- seed 003: credit system, plan quick (🚨 紧急回滚程序) ---------------------------------------

# The balance monitor's check fails before the rollback: it is the incident's symptom (the
# schema's own verifications, which failed by design, are plan sqlfix's, not pre-checks).
CREDIT_POST_STATE = {"balance_accuracy"}


@pytest.fixture
def credit_db(pg) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from tests.test_seed_credit_db import credit_database

    with credit_database(pg) as dsn:
        yield dsn


def credit_lab(host: SeedHost, tmp_path: Path) -> dict[str, str]:
    """The bastion's application checkout (tagged before the migration, then migration 0003 with
    its rollback SQL) and the app deployed in the lab's kube context, running 0003."""
    from tests.seed_support import load_seed

    rb = load_seed("credit-db-rollback.toml")
    repo = tmp_path / "watermark-remover"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / ".npmrc").write_text("update-notifier=false\nfund=false\naudit=false\n")
    (repo / "package.json").write_text(json.dumps({"name": "watermark-remover", "private": True,
                                                   "scripts": {"build": "cat VERSION > .next-build"}}))  # fmt: skip
    (repo / ".gitignore").write_text(".next-build\n")
    for version in ("credit-v1", "credit-0003"):
        (repo / "VERSION").write_text(version + "\n")
        if version == "credit-0003":
            migration = repo / rb.vars["rollback_sql"]  # type: ignore[operator]
            migration.parent.mkdir(parents=True)
            migration.write_text("\n".join(s.query for s in rb.plans["sqlfix"].steps), encoding="utf-8")  # type: ignore[attr-defined]
        git(repo, "add", "-A")
        git(repo, "-c", "user.name=lab", "-c", "user.email=lab@localhost", "commit", "-q", "-m", version)
        if version == "credit-v1":
            git(repo, "tag", str(rb.vars["pre_migration_tag"]))
    app = host.define("watermark-remover-lab", "credit", "kube", app_dir=repo, context="rbconsole-lab")
    host.start("watermark-remover-lab")
    return {"app_repo": str(repo), "app_url": app, "reason": "积分计算错误", "impact": "全部付费用户"}


def test_seed_003_plan_quick_scales_down_rolls_back_and_up_for_real(
    seed_host: SeedHost, prom: PromLab, credit_db: str, rbconsole_home: Path, tmp_path: Path
) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    values = credit_lab(seed_host, tmp_path) | {"prometheus": prom.url}
    before = seed_host.process("watermark-remover-lab")
    assert before is not None and before["version"] == "credit-0003"
    env = {"LAB_DATABASE_URL": credit_db, "LAB_NOTIFICATION_API": "http://127.0.0.1:1/",
           # production's names point nowhere: a lab run that used them would fail, not pass
           "DATABASE_URL": "postgresql://prod@127.0.0.1:1/watermark_remover", "NOTIFICATION_API": "http://127.0.0.1:2/"}  # fmt: skip
    run = run_seed(seed_host, rbconsole_home, tmp_path, "credit-db-rollback.toml", "quick", values, env=env)
    pre = run.finished("pre")
    failed = {k for k, v in pre.items() if v != "ok"}
    # "API响应时间 <100ms" is a timing threshold: on a loaded lab machine it may fail on time, and
    # only on time (the suite asserts no timings); everything else must be exactly as said here
    if "api_latency" in failed:
        detail = next(
            e.data["detail"] for e in run.events if e.type == ev.CHECK_FINISHED and e.data["id"] == "api_latency"
        )
        assert "expected at most 100 ms" in detail, detail
        failed.discard("api_latency")
    assert failed == CREDIT_POST_STATE | {"vercel_cli"}, {k: pre[k] for k in failed}
    # the bastion has no vercel CLI (Stage 2's tool; the lab stands in for none): a warning, said so
    assert pre.get("vercel_cli") == "failed"
    assert_all_ok_but_pre(run, ["scale_down", "rollback_sql", "checkout", "build", "scale_up"],
                          ["rollout", "verify_suite", "tables_exist", "negative_balances"])  # fmt: skip
    assert_lab_only(run)
    after = seed_host.process("watermark-remover-lab")
    assert after is not None and after["pid"] != before["pid"] and after["version"] == "credit-v1"
    repo = Path(values["app_repo"])
    assert (repo / ".next-build").read_text() == "credit-v1\n"  # built from the pre-migration tag
    with psycopg.connect(credit_db) as conn:
        assert conn.execute("SELECT to_regclass('public.credit_packages') IS NOT NULL").fetchone() == (True,)
    password = str(conninfo_to_dict(credit_db)["password"])
    assert password not in run.journal + run.record + run.done.stdout + run.done.stderr
    run.figure("credit-db-rollback", "quick", 15)


def assert_all_ok_but_pre(run: Run, steps: list[str], verify: list[str]) -> None:
    out = run.done.stdout[-4000:] + run.done.stderr[-3000:]
    assert run.done.returncode == 0 and "== result: SUCCESS" in run.done.stdout, out
    assert run.ended["result"] == "success"
    assert run.finished("step") == dict.fromkeys(steps, "ok")
    assert run.finished("verify") == dict.fromkeys(verify, "ok")
