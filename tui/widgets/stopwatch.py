"""Elapsed time against a target, read from the app's injectable clock (fixed in tests)."""

from __future__ import annotations

from collections.abc import Callable

from textual.reactive import reactive
from textual.widgets import Static

from tui.runbook.durations import format_clock


class Stopwatch(Static):
    """``⏱ 03:12 / 10:00``; turns to the warning colour at 80% of the target and error past it."""

    DEFAULT_CSS = """
    Stopwatch { width: auto; padding: 0 1; }
    Stopwatch.-late { background: $warning; color: $background; text-style: bold; }
    Stopwatch.-over { background: $error; color: $background; text-style: bold; }
    """

    started: reactive[float | None] = reactive(None)

    def __init__(
        self, clock: Callable[[], float], target_minutes: float | None = None, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.target = target_minutes * 60 if target_minutes else None
        self.stopped_at: float | None = None

    def on_mount(self) -> None:
        self.tick()
        self.set_interval(1.0, self.tick, name="stopwatch")

    def start(self) -> None:
        if self.started is None:
            self.started = self.clock()

    def stop(self) -> None:
        if self.started is not None and self.stopped_at is None:
            self.stopped_at = self.clock()
            self.tick()

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.stopped_at if self.stopped_at is not None else self.clock()) - self.started

    def tick(self) -> None:
        elapsed = self.elapsed
        text = f"⏱ {format_clock(elapsed)}"
        if self.target:
            text += f" / {format_clock(self.target)}"
            self.set_class(0.8 * self.target <= elapsed < self.target, "-late")
            self.set_class(elapsed >= self.target, "-over")
        self.update(text)

    def watch_started(self) -> None:
        self.tick()
