"""Live monitors: each ``[[monitors]]`` entry with a query, read now, and the severity they suggest.

A monitor fires when any series it reads meets its ``condition`` (an error rate "> 0.05" on
one instance is an incident). "no data" and an error are their own states: neither fires, and
neither is quiet, so the operator sees that a signal is blind rather than calm. The monitors
that fire suggest the highest severity level among theirs, highest meaning first in the
runbook's ``[[severity]]`` table (P0 before P1); the operator confirms or changes it.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from typing import Any

from tui.executors.base import ExecContext
from tui.executors.prometheus import PrometheusExecutor, PromQuery, Threshold, number
from tui.runbook.model import Monitor, PrometheusAction, Runbook
from tui.runbook.placeholders import RenderError

DEFAULT_TIMEOUT = 5.0  # a triage screen waits for no one


@dataclass(frozen=True)
class MonitorReading:
    id: str
    title: str
    severity: str
    condition: str
    state: str  # fires | quiet | no_data | error
    values: list[dict[str, str]] = field(default_factory=list)  # series, value
    detail: str = ""

    def as_data(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def shown(self) -> str:
        """The values against the condition, as one line."""
        if self.state in ("no_data", "error"):
            return self.detail
        if len(self.values) == 1:
            return f"{self.values[0]['value']} vs {self.condition}"
        threshold = Threshold.parse(self.condition)
        meeting = [v["value"] for v in self.values if threshold.met(number(v["value"]))]
        if meeting:
            return f"{', '.join(meeting[:3])} vs {self.condition} ({len(meeting)} of {len(self.values)} series)"
        values = sorted(number(v["value"]) for v in self.values)
        return f"{values[0]:g}…{values[-1]:g} vs {self.condition} ({len(self.values)} series)"


def _null_sink(host: str, stream: str, text: str) -> None:
    """A monitor's reading is its result; the query's output lines are not kept."""


async def read_one(monitor: Monitor, ctx: ExecContext, executor: PrometheusExecutor) -> MonitorReading:
    base = {"id": monitor.id, "title": monitor.title or monitor.metric or monitor.id}
    base |= {"severity": monitor.severity, "condition": monitor.condition}
    action = PrometheusAction.model_validate(
        {
            "id": monitor.id,
            "kind": "prometheus",
            "url": monitor.url,
            "query": monitor.query,
            "expect": monitor.condition,
        }
    )
    try:
        query = PromQuery(action, ctx)
    except RenderError as exc:
        return MonitorReading(**base, state="error", detail=ctx.redact(str(exc)))
    outcome = await executor.evaluate(query, True, monitor.timeout or DEFAULT_TIMEOUT, ctx, _null_sink)
    if outcome.status == "no_data":
        return MonitorReading(**base, state="no_data", detail="no data")
    if outcome.status not in ("ok", "failed") or not outcome.readings:
        return MonitorReading(**base, state="error", detail=outcome.detail or outcome.status)
    values = [{"series": str(r["series"]), "value": str(r["value"])} for r in outcome.readings]
    fires = any(r["ok"] for r in outcome.readings)
    return MonitorReading(**base, state="fires" if fires else "quiet", values=values)


async def read_all(runbook: Runbook, ctx: ExecContext, executor: PrometheusExecutor) -> list[MonitorReading]:
    live = [m for m in runbook.monitors if m.live]
    return list(await asyncio.gather(*(read_one(m, ctx, executor) for m in live)))


def suggest(runbook: Runbook, readings: list[MonitorReading]) -> str | None:
    """The highest severity level (first in ``[[severity]]``) that a firing monitor names."""
    firing = {r.severity for r in readings if r.state == "fires"}
    return next((s.level for s in runbook.severity if s.level in firing), None)
