"""Profiles own everything environment-bound, and a drill is fenced in: a target that comes
from the runbook's production values stops it before anything runs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.drill.report import render_report
from tui.drill.summary import summarise
from tui.engine import events as ev
from tui.engine.session import Session, SessionError, StartOptions
from tui.runbook.loader import load, load_or_raise

RUNBOOK = """schema = 1
id = "fence"
title = "fence test"
service = "svc"

[vars]
admin_api = "http://prod-admin.internal:5000"
kube_context = "prod-cluster"
status_hook = "https://status.example.com/hook"
marker = "{marker}"

[secrets.db_url]
env = "FENCE_DATABASE_URL"

[hosts.app1]
address = "app1.prod.internal"
[hosts.app2]
address = "app2.prod.internal"
[groups]
app = ["app1", "app2"]

[profiles.staging]
kind = "staging"
vars = {{ kube_context = "staging-cluster" }}

[profiles.fenced]
kind = "staging"
vars = {{ admin_api = "http://127.0.0.1:9", kube_context = "lab-cluster" }}
hosts.app1 = {{ address = "127.0.0.1", port = 2222 }}
groups = {{ app = ["app1"] }}
env = {{ FENCE_DATABASE_URL = "FENCE_LAB_DATABASE_URL" }}
actions.tell = {{ webhook = "http://127.0.0.1:9/hook" }}
actions.counts = {{ dsn = "postgresql://lab@127.0.0.1:9/lab" }}
shared = ["status_hook"]

[profiles.prod]
title = "production, not fenced"

[[checks]]
id = "health"
kind = "http"
url = "{{{{ admin_api }}}}/health"

[plans.A]
title = "flags"
[[plans.A.steps]]
id = "flags"
kind = "http"
method = "POST"
url = "{{{{ admin_api }}}}/flags"
[[plans.A.steps]]
id = "pods"
kind = "local"
run = "echo kubectl --context {{{{ kube_context }}}} delete pod x"
[[plans.A.steps]]
id = "restart"
kind = "ssh"
group = "app"
run = "true"
[[plans.A.steps]]
id = "tell"
kind = "notify"
message = "rolled back"
webhook = "https://hooks.example.com/prod"
[[plans.A.steps]]
id = "status"
kind = "notify"
message = "status"
webhook = "{{{{ status_hook }}}}"
[[plans.A.verify]]
id = "counts"
kind = "sql"
dsn_env = "FENCE_DATABASE_URL"
query = "SELECT 1"

[plans.B]
title = "only local"
[[plans.B.steps]]
id = "note"
kind = "local"
run = "true"

[plans.C]
title = "a local command reads the database URL itself"
[[plans.C.steps]]
id = "dump"
kind = "local"
run = 'test "$FENCE_DATABASE_URL" = postgresql://lab@127.0.0.1:9/lab'

[[drills]]
id = "d1"
title = "flags drill"
profile = "staging"
plan = "A"
[[drills.setup]]
id = "inject"
kind = "local"
run = "touch {{{{ marker }}}}"
"""


@pytest.fixture
def runbook_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FENCE_DATABASE_URL", "postgresql://prod@db.prod.internal/prod")
    monkeypatch.setenv("FENCE_LAB_DATABASE_URL", "postgresql://lab@127.0.0.1:9/lab")
    path = tmp_path / "fence.toml"
    path.write_text(RUNBOOK.format(marker=tmp_path / "injected"), encoding="utf-8")
    return path


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def test_drill_refuses_listing_every_production_target_before_anything_runs(
    runbook_file: Path, tmp_path: Path, rbconsole_home: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "drill", str(runbook_file), "--scenario", "d1", "--headless", "--yes"],
        capture_output=True, text=True, timeout=60, env=dict(os.environ), stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    err = done.stderr
    assert "profile 'staging' is fenced in" in err
    f = str(runbook_file)
    health, flags = _line_of(runbook_file, "{{ admin_api }}/health"), _line_of(runbook_file, "{{ admin_api }}/flags")
    hook = _line_of(runbook_file, "https://hooks.example.com/prod")
    expected = [
        f"{f}:{health}: pre-check health: URL http://prod-admin.internal:5000 from var admin_api",
        f"{f}:{flags}: plan A step flags: URL http://prod-admin.internal:5000 from var admin_api",
        "plan A step restart: ssh host app1.prod.internal from host app1",
        "plan A step restart: ssh host app2.prod.internal from host app2",
        f"{f}:{hook}: plan A step tell: webhook https://hooks.example.com from written in the runbook",
        "plan A step status: webhook https://status.example.com from var status_hook",
        "plan A verification counts: DSN $FENCE_DATABASE_URL from $FENCE_DATABASE_URL",
    ]
    for line in expected:
        assert line in err
    assert "kube_context" not in err  # the staging profile sets it: fenced, not listed
    assert "Traceback" not in err
    assert not (tmp_path / "injected").exists()  # the setup never ran
    assert not (rbconsole_home / "sessions").exists() or not any((rbconsole_home / "sessions").iterdir())


def test_a_profile_that_owns_every_target_starts_and_the_report_names_the_shared_one(
    runbook_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runbook = load_or_raise(runbook_file)

    async def go() -> Session:
        session = Session.start(
            runbook, str(runbook_file), StartOptions(profile="fenced", mode="drill", plan="A", values={})
        )
        await session.choose_plan("A")
        await session.close()
        return session

    session = asyncio.run(go())
    # The profile's overrides are what the session uses.
    assert session.runbook.group_hosts("app") == ["app1"]
    assert session._scope["db_url"].text == "postgresql://lab@127.0.0.1:9/lab"
    tell = next(s for s in session.runbook.plans["A"].steps if s.id == "tell")
    assert tell.webhook == "http://127.0.0.1:9/hook"  # type: ignore[union-attr]
    counts = session.runbook.plans["A"].verify[0]
    assert (counts.dsn, counts.dsn_env) == ("postgresql://lab@127.0.0.1:9/lab", None)  # type: ignore[union-attr]
    chosen = next(e for e in session.events if e.type == ev.PLAN_CHOSEN)
    targets = chosen.data["targets"]
    assert targets["production"] == []
    assert [line.split(": ", 1)[1] for line in targets["shared"]] == [
        "plan A step status: webhook https://status.example.com from var status_hook"
    ]
    assert targets["fenced"] == 6  # health, flags, pods, restart (app1 only), tell, counts
    report = render_report(summarise(session.events))
    assert "### Targets" in report
    assert "6 fenced in" in report and "1 shared with production on purpose" in report
    assert "status.example.com" in report


def test_console_order_refuses_at_plan_choice_and_var_fences_a_target(runbook_file: Path) -> None:
    runbook = load_or_raise(runbook_file)

    async def go() -> None:
        given = {"admin_api": "http://127.0.0.1:9"}  # the pre-check's target: the operator's own
        session = Session.start(runbook, str(runbook_file), StartOptions(profile="staging", mode="drill", values=given))
        try:
            with pytest.raises(SessionError, match="fenced in") as raised:
                await session.choose_plan("A")
            assert "plan A step restart: ssh host app1.prod.internal" in str(raised.value)
            assert "admin_api" not in str(raised.value)
            assert session.state.plan is None
            await session.choose_plan("B")  # a plan with no target of production starts
        finally:
            await session.close()

    asyncio.run(go())
    with pytest.raises(SessionError, match="pre-check health") as raised:
        Session.start(
            runbook,
            str(runbook_file),
            StartOptions(profile="staging", mode="drill", plan="A", values={"kube_context": "prod-cluster"}),
        )
    assert "command value prod-cluster from var kube_context" not in str(raised.value)  # --var is the operator's


def test_a_staging_profile_is_fenced_outside_drills_and_production_is_not(runbook_file: Path) -> None:
    runbook = load_or_raise(runbook_file)
    with pytest.raises(SessionError, match="fenced in"):
        Session.start(runbook, str(runbook_file), StartOptions(profile="staging", plan="A"))
    session = Session.start(runbook, str(runbook_file), StartOptions(profile="prod", plan="A"))
    asyncio.run(session.close())
    assert "targets" not in session.events[0].data


def test_a_dry_run_drill_walks_on_and_says_what_a_live_one_would_refuse(runbook_file: Path) -> None:
    runbook = load_or_raise(runbook_file)
    session = Session.start(
        runbook, str(runbook_file), StartOptions(profile="staging", mode="drill", plan="A", dry_run=True)
    )

    async def go() -> None:
        await session.choose_plan("A")
        await session.close()

    asyncio.run(go())
    warnings = [e.data["message"] for e in session.events if e.type == ev.WARNING]
    assert any("a live drill would refuse" in w and "plan A step flags" in w for w in warnings)


def test_profile_overrides_are_validated_with_their_line(tmp_path: Path, runbook_file: Path) -> None:
    text = runbook_file.read_text(encoding="utf-8")
    text = text.replace("env = {", 'secrets.nope = { env = "X" }\nenv = {').replace(
        'shared = ["status_hook"]', 'shared = ["x"]'
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    problems = [str(p) for p in load(bad).problems]
    assert any("secret 'nope' is not defined" in p for p in problems), problems
    assert any("var, host, check/step/monitor id or environment variable 'x' is not defined" in p for p in problems), (
        problems
    )


def test_renamed_environment_variables_reach_secrets_dsns_and_local_commands(runbook_file: Path) -> None:
    runbook = load_or_raise(runbook_file)
    with pytest.raises(SessionError, match=r"plan C step dump: environment variable \$FENCE_DATABASE_URL"):
        Session.start(runbook, str(runbook_file), StartOptions(profile="staging", plan="C"))

    async def go() -> bool:
        session = Session.start(runbook, str(runbook_file), StartOptions(profile="fenced", plan="C", yes=True))
        try:
            await session.choose_plan("C")
            return await session.run_plan()
        finally:
            await session.close()

    assert asyncio.run(go()) is True  # the command saw the lab's URL under the production name


SMALL = """schema = 1
id = "fence2"
title = "prometheus and host-local values"
service = "svc"

[vars]
prometheus = "http://prometheus.prod.internal:9090"
redis_url = "redis://localhost:6379"

[hosts.app]
address = "app.prod.internal"

[profiles.staging]
kind = "staging"
hosts.app = { address = "app.staging.internal" }

[plans.A]
title = "A"
[[plans.A.steps]]
id = "flush"
kind = "ssh"
host = "app"
run = "redis-cli -u {{ redis_url }} ping"
[[plans.A.steps]]
id = "local_flush"
kind = "local"
run = "redis-cli -u {{ redis_url }} ping"
[[plans.A.verify]]
id = "errors"
kind = "prometheus"
url = "{{ prometheus }}"
query = "up"
expect = "> 0"
"""


def test_prometheus_is_a_target_and_a_hosts_own_localhost_is_not(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    with pytest.raises(SessionError) as raised:
        Session.start(load_or_raise(path), str(path), StartOptions(profile="staging", plan="A"))
    message = str(raised.value)
    assert "plan A verification errors: URL http://prometheus.prod.internal:9090 from var prometheus" in message
    # on the bastion, localhost is the bastion: listed; on the (staging) host it is that host's own
    assert "plan A step local_flush: command value redis://localhost:6379 from var redis_url" in message
    assert "step flush" not in message
