"""Per-step baselines from earlier drills, and drift: how far a step's time is from its baseline.

A baseline is the median time of a step over the last few drills in which it passed (a failed
or skipped attempt says nothing about how long the step takes). Drift is flagged when a step
takes ``ratio`` times its baseline AND at least ``min_seconds`` more, so a 0.1 s step that
takes 0.3 s is not news while a 4 s checkout that takes 12 s is.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from tui.drill import history
from tui.drill.summary import DrillRun
from tui.runbook.durations import format_duration

RECENT = 5
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


def baselines(history: Sequence[DrillRun], recent: int = RECENT) -> dict[str, Baseline]:
    """Step id -> baseline over the last ``recent`` drills (oldest first in ``history``)."""
    samples: dict[str, list[float]] = {}
    titles: dict[str, str] = {}
    for run in history[-recent:]:
        for step in run.steps:
            if step.status == "ok" and step.attempts:
                samples.setdefault(step.id, []).append(step.seconds)
                titles[step.id] = step.title or titles.get(step.id, "")
    return {
        step_id: Baseline(step_id, titles[step_id], statistics.median(values), len(values))
        for step_id, values in samples.items()
    }


def drift(
    step_id: str,
    position: int,
    seconds: float,
    known: dict[str, Baseline],
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


def drifts(run: DrillRun, known: dict[str, Baseline], **bounds: float) -> list[Drift]:
    """Every flagged drift in ``run``'s plan steps, in plan order."""
    found = []
    for position, step in enumerate(run.steps, start=1):
        if step.attempts and step.status == "ok":
            d = drift(step.id, (step.index + 1) if step.index is not None else position, step.seconds, known, **bounds)
            if d is not None:
                found.append(d)
    return found


def plan_baselines(runbook_id: str, plan_id: str) -> dict[str, Baseline]:
    """Baselines of a plan's steps from the drill history (what the plan screen compares a live step with)."""
    return baselines(history.load(runbook_id, plan_id))
