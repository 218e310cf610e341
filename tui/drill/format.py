"""How drill times read: short, exact enough for a human, the same on screen and in the report."""

from __future__ import annotations

from collections.abc import Sequence

from tui.engine.results import label
from tui.runbook.durations import format_duration

_BARS = "▁▂▃▄▅▆▇█"


def against_target(seconds: float, target_minutes: float | None, result: str = "success") -> str:
    """``1m 23s of 10m target (14%, within)`` or ``12m 30s of 10m target (125%, over by 2m 30s)``.
    Only a drill that succeeded met (or missed) its time: any other ``result`` says so instead."""
    if target_minutes is None:
        return f"{format_duration(seconds)} (no target time set)"
    target = target_minutes * 60
    share = percent(seconds / target)
    if result != "success":
        return f"{format_duration(seconds)} of {format_duration(target)} target ({share}; {label(result)}, so no target was met)"
    if seconds <= target:
        return f"{format_duration(seconds)} of {format_duration(target)} target ({share}, within target)"
    return f"{format_duration(seconds)} of {format_duration(target)} target ({share}, over by {format_duration(seconds - target)})"


def percent(fraction: float) -> str:
    """``14%``; ``<1%`` rather than a misleading ``0%``."""
    return "<1%" if 0 < fraction < 0.005 else f"{fraction * 100:.0f}%"


def sparkline(values: Sequence[float]) -> str:
    """One bar per value, scaled between the smallest and the largest."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low
    return "".join(_BARS[0 if span == 0 else round((v - low) / span * (len(_BARS) - 1))] for v in values)
