"""The seeds' numeric thresholds as prometheus checks and live monitors, against the lab
Prometheus through each seed's `lab` profile: healthy, everything passes and nothing fires;
past every threshold, every check fails and every live monitor fires, suggesting the level the
document gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lab.prometheus import SEED_SERIES, PromLab
from tui.engine.session import Session, StartOptions
from tui.executors.base import ExecContext
from tui.executors.prometheus import PrometheusExecutor
from tui.runbook.loader import load
from tui.runbook.model import PrometheusAction, Runbook

RUNBOOKS = Path(__file__).resolve().parent.parent / "runbooks"
# seed runbook -> (its service label, the level its firing monitors suggest, its prometheus checks)
SEEDS = {
    "wechat-backend-phase1": ("wechat-backend", "P0", {"metric_error_rate", "metric_response_time", "metric_cpu",
                                                        "metric_memory", "error_rate_normal"}),
    "credit-db-rollback": ("watermark-remover", "Stage 1", {"error_rate_ok", "db_query_ok"}),
    "shop-rollback": ("shop-backend", "严重", set()),
}  # fmt: skip
# Past every threshold the seeds state.
BAD = {
    "service:error_ratio:rate5m": 0.5,
    "service:latency_seconds:avg5m": 400.0,
    "instance:cpu_usage:ratio": 0.95,
    "instance:memory_usage:ratio": 0.95,
    "service:diagnosis_unavailable_users:ratio": 0.6,
    "service:diagnosis_stuck_users:ratio": 0.3,
    "service:noncore_issue_users:ratio": 0.1,
    "service:db_query_seconds:avg5m": 0.2,
    "credit:balance_discrepancy:count": 50.0,
    "credit:transaction_failure:ratio1h": 0.2,
    "service:latency_increase:ratio": 0.8,
    "service:error_rate_increase:ratio": 0.3,
    "service:conversion_drop:ratio": 0.4,
}


def prometheus_actions(rb: Runbook) -> dict[str, PrometheusAction]:
    found = {a.id: a for a in rb.checks if isinstance(a, PrometheusAction)}
    for plan in rb.plans.values():
        found |= {a.id: a for a in plan.verify if isinstance(a, PrometheusAction)}
    return found


async def read(rb: Runbook, prom: PromLab) -> tuple[dict[str, str], str | None, dict[str, str]]:
    """Monitor states, the suggested level, and each prometheus check's status."""
    path = RUNBOOKS / f"{rb.id}.toml"
    required = {name: "lab" if not param.pattern else "1" for name, param in rb.params.items() if param.required}
    values = {"prometheus": prom.url, **required}
    session = Session.start(rb, str(path), StartOptions(profile="lab", values=values))
    try:
        readings, suggested = await session.read_monitors("start")
        executor = PrometheusExecutor()
        ctx: ExecContext = session.context("pre")  # the session's own values: the lab profile's
        try:
            checks = {
                i: (await executor.run(a, ctx, lambda *_: None)).status for i, a in prometheus_actions(rb).items()
            }
        finally:
            await executor.close()
    finally:
        await session.close()
    return {r.id: r.state for r in readings}, suggested, checks


@pytest.fixture
def seeds(monkeypatch: pytest.MonkeyPatch) -> dict[str, Runbook]:
    monkeypatch.setenv("DATABASE_URL", "postgresql://lab@127.0.0.1:1/none")  # credit's sql checks: read, not used
    loaded = {name: load(RUNBOOKS / f"{name}.toml") for name in SEEDS}
    assert all(r.runbook is not None for r in loaded.values()), {n: r.problems for n, r in loaded.items()}
    return {name: r.runbook for name, r in loaded.items() if r.runbook is not None}


async def test_seed_thresholds_against_the_lab(prom: PromLab, seeds: dict[str, Runbook], rbconsole_home: Path) -> None:
    for name, rb in seeds.items():
        service, level, checks = SEEDS[name]
        assert set(prometheus_actions(rb)) == checks, name
        live = {m.id for m in rb.monitors if m.live}
        assert live and all(m.url == "{{ prometheus }}" for m in rb.monitors if m.live), name
        assert rb.profiles["lab"].vars["prometheus"] == "http://127.0.0.1:9090"
        states, suggested, statuses = await read(rb, prom)
        assert set(states) == live and set(states.values()) == {"quiet"}, (name, states)
        assert suggested is None and set(statuses.values()) <= {"ok"}, (name, statuses)
    for service, series in SEED_SERIES.items():
        for metric in series:
            prom.set(metric, BAD[metric], service=service)
    prom.settle()
    for name, rb in seeds.items():
        service, level, checks = SEEDS[name]
        states, suggested, statuses = await read(rb, prom)
        assert set(states.values()) == {"fires"}, (name, states)
        assert suggested == level, name
        assert set(statuses.values()) <= {"failed"}, (name, statuses)
