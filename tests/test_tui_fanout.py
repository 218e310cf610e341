"""Fan-out in the console against the real sshd lab: per-host tabs with their own output,
rolling batches, the typed confirmation naming the group."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Tabs

from screens.confirm import ConfirmScreen
from screens.plan import PlanScreen
from tests.lab.sshd import SshLab
from tests.tui_helpers import make_app, settle
from tui.widgets.output_pane import OutputPane

RUNBOOK = """
schema = 1
id = "tui-fanout"
title = "fan-out rollback"
service = "fanout"

[hosts.alpha]
address = "alpha"
[hosts.beta]
address = "beta"
[groups]
app = ["alpha", "beta"]

[plans.A]
title = "Restart everywhere"
target_minutes = 5
[[plans.A.steps]]
id = "restart"
title = "Restart the app on every host"
kind = "ssh"
group = "app"
batch = 1
confirm = true
run = "for i in 1 2 3; do echo \\"restart $i on $(hostname) via $SSH_CONNECTION\\"; sleep 0.2; done"
"""


@pytest.mark.lab
async def test_fan_out_shows_one_tab_per_host(ssh_lab: SshLab, tmp_path: Path) -> None:
    runbook = tmp_path / "fanout.toml"
    runbook.write_text(RUNBOOK)
    app = make_app(runbook, plan="A", ssh_config=str(ssh_lab.config), known_hosts=str(ssh_lab.known_hosts))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"host restart", "ctrl+s")
        await settle(app, pilot)
        await pilot.press("enter")  # no pre-checks: start the plan
        await settle(app, pilot)
        assert isinstance(app.screen, PlanScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.targets == ("app",)
        await pilot.press(*"app", "enter")
        status = app.screen.query_one("#plan-status")
        seen_batches: set[str] = set()
        for _ in range(400):  # bounded: the two batches of one host each, as the status line shows them
            await pilot.pause(0.02)
            text = str(status.content)
            seen_batches |= {b for b in ("batch 1/2 (alpha)", "batch 2/2 (beta)") if b in text}
            if not app.busy:
                break
        await settle(app, pilot, rounds=600)
        assert seen_batches == {"batch 1/2 (alpha)", "batch 2/2 (beta)"}
        screen = app.screen
        assert isinstance(screen, PlanScreen)
        assert app.session is not None and app.session.state.action("step", "restart").status == "ok"
        tabs = screen.query_one(Tabs)
        labels = [str(tab.label) for tab in tabs.query("Tab")]
        assert labels == ["all", "✓ alpha", "✓ beta"]
        alpha = screen.query_one("#pane-alpha", OutputPane)
        beta = screen.query_one("#pane-beta", OutputPane)
        ports = {name: str(ssh_lab.servers[name].port) for name in ("alpha", "beta")}
        assert [line.split(" via ")[0] for line in alpha.lines if line.startswith("restart")] == [
            f"restart {i} on {alpha_host}" for i, alpha_host in [(n, _hostname()) for n in (1, 2, 3)]
        ]
        assert all(ports["alpha"] in line for line in alpha.lines if line.startswith("restart"))
        assert all(ports["beta"] in line for line in beta.lines if line.startswith("restart"))
        combined = list(screen.query_one("#pane-all", OutputPane).lines)
        assert sum(line.startswith("[alpha] restart") for line in combined) == 3
        assert sum(line.startswith("[beta] restart") for line in combined) == 3
        await pilot.press("right", "right")  # the host tabs are keyboard reachable
        await pilot.pause()


def _hostname() -> str:
    import socket

    return socket.gethostname()
