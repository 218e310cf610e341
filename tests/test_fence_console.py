"""The console's fence refusal: a scrollable window, one target a line with where it is
written, where it comes from and (for the highlighted one) the fix; nothing starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from screens.fence import FenceScreen
from tests.tui_helpers import make_app

RUNBOOK = """schema = 1
id = "fence-console"
title = "a drill that would reach production"
service = "shop"

[vars]
api = "https://api.shop.example.com"
prometheus = "http://prometheus.shop.internal:9090"
kube_context = "prod-eu-1"

[hosts.web1]
address = "web1.shop.internal"

[profiles.staging]
title = "staging, forgetting most of it"
kind = "staging"
vars = { api = "http://127.0.0.1:9" }

[[monitors]]
id = "errors"
title = "5xx rate"
kind = "prometheus"
url = "{{ prometheus }}"
query = "sum(rate(http_5xx_total[1m]))"
condition = "> 0.05"

[[checks]]
id = "health"
kind = "http"
url = "{{ api }}/health"

[plans.A]
title = "roll the web tier back"
[[plans.A.steps]]
id = "restart"
kind = "ssh"
host = "web1"
run = "sudo systemctl restart shop"
[[plans.A.steps]]
id = "pods"
kind = "local"
run = "kubectl --context {{ kube_context }} rollout undo deployment/shop"
[[plans.A.steps]]
id = "purge"
kind = "local"
run = "curl -fsS -X POST https://cdn.shop.example.com/purge && psql -h db1.shop.internal -c 'select 1'"
"""


@pytest.fixture
def runbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rbconsole_home: Path) -> Path:
    (tmp_path / "fence.toml").write_text(RUNBOOK, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the window names the file as given: the same on every machine
    return Path("fence.toml")


def _app(runbook: Path):  # type: ignore[no-untyped-def]
    return make_app(runbook, operator="ana", drill=True, plan="A", reason="drill", profile="staging")


async def _refused(pilot) -> FenceScreen:  # type: ignore[no-untyped-def]
    for _ in range(200):  # bounded: the incident starts by itself (--plan with --reason)
        if isinstance(pilot.app.screen, FenceScreen) and pilot.app.screen.query("#fence-detail"):
            await pilot.pause()
            return pilot.app.screen
        await pilot.pause(0.05)
    raise AssertionError(f"no fence window, on {pilot.app.screen!r}")


async def test_the_refusal_lists_every_target_one_a_line_and_nothing_starts(
    runbook: Path, rbconsole_home: Path
) -> None:
    app = _app(runbook)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _refused(pilot)
        table = screen.query_one("#fence-targets", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert [row[4] for row in rows] == [
            "plan A step restart",
            "plan A step pods",
            "plan A step purge",
            "plan A step purge",
            "monitor errors",
        ]
        host_line = RUNBOOK.splitlines().index('host = "web1"') + 1
        assert rows[0][:2] == [f"fence.toml:{host_line}", "host web1"]
        assert rows[0][2].startswith("set [profiles.staging.hosts.web1] address")
        assert rows[0][3] == "ssh host web1.shop.internal"
        assert rows[1][1:4] == [
            "var kube_context",
            "set kube_context in [profiles.staging] vars (or --var kube_context=...)",
            "command value prod-eu-1",
        ]
        assert rows[4][1] == "var prometheus" and rows[4][3] == "URL http://prometheus.shop.internal:9090"
        detail = screen.query_one("#fence-detail", Static)
        assert "fix: set [profiles.staging.hosts.web1] address" in str(detail.render())
        await pilot.press("down", "down")
        assert "fix: write {{ api }} for it and set api in [profiles.staging] vars" in str(detail.render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FenceScreen)
        assert app.session is None  # nothing started
    assert not (rbconsole_home / "sessions").exists() or not any((rbconsole_home / "sessions").iterdir())


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_fence_window(size: tuple[int, int], runbook: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _refused(pilot)
        await pilot.pause()

    assert snap_compare(_app(runbook), terminal_size=size, run_before=run_before)
