"""Per-step baselines from the drill history: what the console and the headless runner hand the engine.

A baseline is the median time of a step over the last few drills in which it passed (a failed
or skipped attempt says nothing about how long the step takes). What counts as drift, and its
words, live in :mod:`tui.engine.drift`: the engine journals the baselines with the plan choice
and each step's drift with its end, and everything after (screen, printer, record, the drill
report) reads those, never the history again.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from tui.drill import history
from tui.drill.summary import DrillRun
from tui.engine.drift import Baseline

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


def plan_baselines(runbook_id: str, plan_id: str) -> dict[str, Baseline]:
    """Baselines of a plan's steps from the drill history: the engine's :data:`~tui.engine.drift.BaselineSource`."""
    return baselines(history.load(runbook_id, plan_id))
