"""Drift against drills in a live session, put into the journal so the record can list it.

The record is rendered from the journal alone, so the per-step baselines from the drill
history are journaled with the plan choice (the history may change or vanish later) and each
plan step's time against its baseline is journaled with the step's end. The drill modules
are imported lazily: a session that never chooses a plan never reads the history.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping
from typing import Any

from tui.engine.state import ActionState


async def plan_baselines(runbook_id: str, plan_id: str, step_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Step id -> {seconds, samples} from the last drills of the plan (read off the loop)."""
    from tui.drill.drift import plan_baselines as from_history

    try:
        known = await asyncio.to_thread(from_history, runbook_id, plan_id)
    except OSError:
        return {}  # an unreadable history costs the comparison, never the plan
    wanted = set(step_ids)
    return {
        step_id: {"seconds": round(base.seconds, 3), "samples": base.samples}
        for step_id, base in known.items()
        if step_id in wanted
    }


def attempts_seconds(action: ActionState | None, now: float, duration: float) -> float:
    """A step's wall time over all its attempts, the one now ending included, measured as the
    drill summary measures it (so a live step and its baseline are timed alike)."""
    total = 0.0
    for attempt in action.history if action else []:
        started, ended = attempt.get("started"), attempt.get("ts")
        took = float(attempt.get("duration") or 0.0)
        total += max(took, ended - started) if started is not None and ended is not None else took
    started = action.started if action else None
    return total + (max(duration, now - started) if started is not None else duration)


def step_drift(baselines: Mapping[str, Any], step_id: str, position: int, seconds: float) -> dict[str, Any] | None:
    """What ``step_finished`` says about a step's time against its baseline (None without one)."""
    from tui.drill.drift import Baseline, Drift, drift

    raw = baselines.get(step_id)
    if not isinstance(raw, Mapping):
        return None
    base = Baseline(step_id, "", float(raw.get("seconds") or 0.0), int(raw.get("samples") or 0))
    found = Drift(step_id, position, seconds, base)
    return {
        "seconds": round(seconds, 3),
        "baseline": base.seconds,
        "samples": base.samples,
        "ratio": round(found.ratio, 2) if math.isfinite(found.ratio) else None,
        "flagged": drift(step_id, position, seconds, {step_id: base}) is not None,
        "text": found.text(),
    }
