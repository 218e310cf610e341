"""Per-step baselines from the drill history, and the drifts of a finished drill (its report).

A baseline is the median time of a step over the last few drills in which it passed (a failed
or skipped attempt says nothing about how long the step takes). What counts as drift, and its
words, live in :mod:`tui.engine.drift` (the engine journals a session's drift with each step);
:func:`plan_baselines` is the history the console and the headless runner hand the engine.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from tui.drill import history
from tui.drill.summary import DrillRun
from tui.engine.drift import Baseline, Drift, drift

RECENT = 5


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


def drifts(run: DrillRun, known: Mapping[str, Baseline], **bounds: float) -> list[Drift]:
    """Every flagged drift in ``run``'s plan steps, in plan order."""
    found = []
    for position, step in enumerate(run.steps, start=1):
        if step.attempts and step.status == "ok":
            d = drift(step.id, (step.index + 1) if step.index is not None else position, step.seconds, known, **bounds)
            if d is not None:
                found.append(d)
    return found


def plan_baselines(runbook_id: str, plan_id: str) -> dict[str, Baseline]:
    """Baselines of a plan's steps from the drill history: the engine's :data:`~tui.engine.drift.BaselineSource`."""
    return baselines(history.load(runbook_id, plan_id))
