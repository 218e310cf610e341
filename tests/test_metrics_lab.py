"""A runbook written from SPEC alone (tests/data/metrics/metrics_lab.toml), run against the lab
Prometheus: live monitors at the start and the end, the severity they suggest, prometheus
pre-checks, a wait that polls a metric until it recovers, and verifications held over a window."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.lab.prometheus import PromLab
from tui.engine import events as ev
from tui.engine.session import Session, StartOptions
from tui.record import render_markdown
from tui.runbook.loader import load

RUNBOOK = Path(__file__).parent / "data" / "metrics" / "metrics_lab.toml"
# Healthy for the verification's whole window, and scraped for longer than it: a series Prometheus
# has known for only two seconds rightly fails a check that it held for three.
HEALTHY_WINDOW = (
    'max_over_time(lab_error_ratio{service="shop"}[4s]) < 0.01'
    ' and count_over_time(lab_error_ratio{service="shop"}[6s]) >= 5'
)


def test_headless_run_reads_monitors_checks_and_holds_verifications(
    prom: PromLab, tmp_path: Path, rbconsole_home: Path
) -> None:
    prom.observe(0.3, 50)
    prom.settle()
    prom.wait_until(HEALTHY_WINDOW)
    record = tmp_path / "record.md"
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(RUNBOOK), "--plan", "A", "--yes", "--severity", "P2",
         "--var", f"prometheus={prom.url}", "--record", str(record)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=dict(os.environ),
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "== monitors (start)" in out and "== monitors (end)" in out
    assert 'QUIET    errors [P1]: 0.004 lab_error_ratio{instance="127.0.0.1:' in out
    assert "NO DATA  queue [P1]: no data (fires when > 1000)" in out
    assert "severity suggested by the monitors: none fire (severity: P2)" in out
    assert "✓ prom-up Prometheus scrapes the service ok" in out
    assert "✓ errors-held error rate < 1% for 3 s ok" in out
    assert "✓ p95 p95 < 2 s ok" in out
    text = record.read_text(encoding="utf-8")
    assert "## 监控读数 · Monitors" in text
    assert "### 开始 · At start" in text and "### 结束 · At the end" in text
    assert "| queue queue depth (not exported yet) | P1 | > 1000 | no data | no data |" in text
    assert "### 指标读数 · Metric readings" in text
    assert "| errors-held | `lab_error_ratio{instance=" in text
    assert '",job="lab",service="shop"}` | 0.004 | min 0.004, max 0.004 over 4/4 samples | ok |' in text


async def test_monitors_suggest_the_highest_firing_level_and_a_wait_sees_recovery(
    prom: PromLab, rbconsole_home: Path
) -> None:
    prom.set("lab_error_ratio", 0.08, service="shop")
    prom.set("lab_cpu_usage_ratio", 0.93, instance="app-2")
    prom.settle()
    loaded = load(RUNBOOK)
    assert loaded.runbook is not None
    session = Session.start(loaded.runbook, str(RUNBOOK), StartOptions(values={"prometheus": prom.url}, yes=True))
    try:
        readings, suggested = await session.read_monitors("start")
        states = {r.id: r.state for r in readings}
        assert states == {"diagnosis": "quiet", "errors": "fires", "cpu": "fires", "queue": "no_data"}
        assert suggested == "P1"  # P1 and P2 fire: the higher one
        cpu = next(r for r in readings if r.id == "cpu")
        assert [v["value"] for v in cpu.values] == ["0.35", "0.93"] and cpu.shown == "0.93 vs > 0.7 (1 of 2 series)"
        await session.set_severity("P1", suggested)
        assert session.state.meta["severity"] == "P1" and session.recommended_plan == "A"
        prom.set("lab_diagnosis_failure_ratio", 0.6, service="wechat")
        prom.settle()
        assert (await session.peek_monitors())[1] == "P0"
        await session.choose_plan("A")

        async def recover() -> None:
            await asyncio.sleep(2.5)
            await asyncio.to_thread(prom.set, "lab_error_ratio", 0.004, service="shop")

        healer = asyncio.create_task(recover())
        assert await session.run_plan()
        await healer
        settle = next(e.data for e in session.events if e.type == ev.STEP_FINISHED and e.data["id"] == "settle")
        assert settle["status"] == "ok"
        polls = int(settle["detail"].split("after ")[1].split(" ")[0])
        assert polls >= 2, settle["detail"]  # it failed first, then saw the recovery
        await session.end()
    finally:
        await session.close()
    text = render_markdown(session.events)
    assert "— suggested severity P1" in text
    assert "| errors error ratio | P1 | > 0.05 | 🔥 fires | 0.08" in text
    assert "severity set to P1 by" in text and "(monitors suggested P1)" in text
    ends = [e.data for e in session.events if e.type == ev.MONITORS_READ]
    assert [m["at"] for m in ends] == ["start", "end"]
    assert ends[1]["suggested"] == "P0"


async def test_unknown_severity_is_refused(prom: PromLab, rbconsole_home: Path) -> None:
    loaded = load(RUNBOOK)
    assert loaded.runbook is not None
    session = Session.start(loaded.runbook, str(RUNBOOK), StartOptions(values={"prometheus": prom.url}))
    try:
        try:
            await session.set_severity("P9")
        except Exception as exc:
            assert "severity 'P9' is not defined (known: P0, P1, P2)" in str(exc)
        else:
            raise AssertionError("P9 was accepted")
    finally:
        await session.close()
