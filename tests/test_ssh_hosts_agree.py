"""One answer to "which hosts does this ssh step run on": the plan screen's panes, the engine's
journal and the ssh executor agree on a group that a profile overrides (the production group
names hosts that must never be touched from this profile)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Tabs

from screens.plan import PlanScreen
from tests.lab.sshd import SshLab
from tests.tui_helpers import make_app, settle
from tui.engine.events import STEP_FINISHED, STEP_STARTED
from tui.runbook.hosts import fan_out, named, render_hosts, render_ssh
from tui.runbook.loader import load_text
from tui.runbook.model import Host, SshAction, SshSettings
from tui.runbook.placeholders import Value
from tui.widgets.output_pane import OutputPane

RUNBOOK = """
schema = 1
id = "hosts-agree"
title = "hosts agree"
service = "fanout"

[vars]
lab_alias = "alpha"

[hosts.prod1]
address = "prod1.invalid"
[hosts.prod2]
address = "prod2.invalid"
[hosts.prod3]
address = "prod3.invalid"
[groups]
app = ["prod1", "prod2", "prod3"]

[profiles.lab]
title = "the lab"
[profiles.lab.hosts.alpha]
address = "{{ lab_alias }}"
[profiles.lab.hosts.beta]
address = "beta"
[profiles.lab.groups]
app = ["alpha", "beta"]

[plans.A]
title = "Restart everywhere"
[[plans.A.steps]]
id = "restart"
title = "Restart the app on every host"
kind = "ssh"
group = "app"
run = "echo restarted on $SSH_CONNECTION"
"""


@pytest.mark.lab
async def test_plan_screen_engine_and_executor_agree_under_a_profile(ssh_lab: SshLab, tmp_path: Path) -> None:
    runbook = tmp_path / "agree.toml"
    runbook.write_text(RUNBOOK)
    app = make_app(
        runbook, plan="A", profile="lab", ssh_config=str(ssh_lab.config), known_hosts=str(ssh_lab.known_hosts)
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"host restart", "ctrl+s")
        await settle(app, pilot)
        await pilot.press("enter")  # no pre-checks: start the plan
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        await pilot.press("enter")
        await settle(app, pilot, rounds=600)
        session = app.session
        assert session is not None
        assert session.state.action("step", "restart").status == "ok"
        labels = [str(tab.label) for tab in screen.query_one(Tabs).query("Tab")]
        assert labels == ["all", "✓ alpha", "✓ beta"]
        started = next(e for e in session.events if e.type == STEP_STARTED)
        finished = next(e for e in session.events if e.type == STEP_FINISHED)
        assert [line.split("]")[0] for line in started.data["describe"]] == ["[alpha", "[beta"]
        assert list(finished.data["hosts"]) == ["alpha", "beta"]
        lines = screen.query_one("#pane-all", OutputPane).lines
        for name in ("alpha", "beta"):  # each host's own sshd answered (its port in SSH_CONNECTION)
            port = str(ssh_lab.servers[name].port)
            assert any(line.startswith(f"[{name}] restarted on") and port in line for line in lines)
        assert not any("prod" in line for line in lines)


def test_fan_out_follows_the_runbook_it_is_given() -> None:
    loaded = load_text(RUNBOOK, "agree.toml")
    assert loaded.runbook is not None
    step = loaded.runbook.plans["A"].steps[0]
    assert isinstance(step, SshAction)
    assert named(step) == ("app",)
    assert fan_out(step, loaded.runbook) == ["prod1", "prod2", "prod3"]
    listed = SshAction.model_validate({"id": "s", "kind": "ssh", "hosts": ["b", "a"], "run": "true"})
    assert named(listed) == ("b", "a") and fan_out(listed, loaded.runbook) == ["b", "a"]


def test_placeholders_in_hosts_and_ssh_paths_are_filled_once() -> None:
    scope = {"who": Value("deploy", trusted=False), "dir": Value("/etc/lab", trusted=True)}
    hosts = render_hosts({"a": Host(address="{{ who }}.example", user="{{ who }}", jump="{{ who }}@bastion")}, scope)
    assert hosts["a"].model_dump(include={"address", "user", "jump"}) == {
        "address": "deploy.example",
        "user": "deploy",
        "jump": "deploy@bastion",
    }
    ssh = render_ssh(SshSettings(config="{{ dir }}/config", identity="~/id"), scope, known_hosts="/k")
    assert ssh.config == "/etc/lab/config"
    assert ssh.known_hosts == "/k"
    assert ssh.identity == str(Path("~/id").expanduser())
