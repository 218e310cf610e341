"""Drift: how far a step's time is from its baseline (its median over earlier drills), journaled.

The record, the headless printer and the plan screen all show what this module put into the
journal: the per-step baselines with the plan choice (the history may change or vanish later)
and each plan step's time against its baseline with the step's end. Where the baselines come
from (the drill history, :func:`tui.drill.drift.plan_baselines`) is the caller's to say: the
engine sits below the drill layer and is handed a :data:`BaselineSource`.

Drift is flagged when a step takes ``RATIO`` times its baseline AND at least ``MIN_SECONDS``
more (or less), so a 0.1 s step that takes 0.3 s is not news while a 4 s checkout that takes
12 s is.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tui.engine.state import ActionState
from tui.runbook.durations import format_duration

RATIO = 1.5
MIN_SECONDS = 1.0


@dataclass(frozen=True)
class Baseline:
    step_id: str
    title: str
    seconds: float  # the median
    samples: int


@dataclass(frozen=True)
class Drift:
    step_id: str
    position: int  # 1-based, as the plan screen numbers steps
    seconds: float
    baseline: Baseline

    @property
    def ratio(self) -> float:
        return self.seconds / self.baseline.seconds if self.baseline.seconds > 0 else float("inf")

    @property
    def slower(self) -> bool:
        return self.seconds > self.baseline.seconds

    def text(self) -> str:
        """``step 4 (checkout): 3.1x its drill time (12s vs 3.9s)``."""
        label = f"step {self.position} ({self.step_id})"
        times = f"({format_duration(self.seconds)} vs {format_duration(self.baseline.seconds)})"
        if self.baseline.seconds <= 0:  # e.g. a manual step answered at once in every drill
            return f"{label}: {format_duration(self.seconds)}, against no measurable drill time"
        if self.slower:
            return f"{label}: {self.ratio:.1f}x its drill time {times}"
        return f"{label}: {self.baseline.seconds / max(self.seconds, 1e-9):.1f}x faster than its drill time {times}"


# (runbook id, plan id) -> step id -> baseline; blocking (file reads): the engine runs it off the loop.
BaselineSource = Callable[[str, str], Mapping[str, Baseline]]


def drift(
    step_id: str,
    position: int,
    seconds: float,
    known: Mapping[str, Baseline],
    *,
    ratio: float = RATIO,
    min_seconds: float = MIN_SECONDS,
) -> Drift | None:
    """The drift of one step that took ``seconds``, or None when it has no baseline or is within bounds.

    Faster counts too (a step that suddenly takes a third of its time may have done nothing).
    """
    base = known.get(step_id)
    if base is None:
        return None
    found = Drift(step_id, position, seconds, base)
    if abs(seconds - base.seconds) < min_seconds:
        return None
    if seconds >= base.seconds * ratio or seconds * ratio <= base.seconds:
        return found
    return None


async def plan_baselines(
    source: BaselineSource, runbook_id: str, plan_id: str, step_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Step id -> {seconds, samples} of the plan's steps, as journaled with the plan choice."""
    try:
        known = await asyncio.to_thread(source, runbook_id, plan_id)
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
