"""What the screens ask of the console app (the app, ``tui.app``, one layer up, implements it),
and what it was opened with (:class:`ConsoleOptions`, which the app holds).

Screens present the session and forward the operator's intent; they reach the app only through
this interface, so they never import the concrete app (which imports them). A test checks the
app is a :class:`Console`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tui.engine.api import StartOptions

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.worker import Worker

    from tui.drill.live import ScenarioGuard
    from tui.engine.session import Session
    from tui.runbook.loader import Loaded


@dataclass(frozen=True)
class ConsoleOptions:
    """What the console opens on (a runbook, a session to resume, else the picker), how it looks,
    and the session it starts: ``start`` (the incident form shows it and edits a copy). With
    ``start.plan`` and ``start.reason`` the incident starts at once (the form only if it lacks a value)."""

    runbook: str | None = None
    resume: str | None = None
    runbook_dirs: tuple[str, ...] = ()
    theme: str | None = None
    start: StartOptions = field(default_factory=StartOptions)

    @property
    def drill(self) -> bool:
        return self.start.mode == "drill"


@runtime_checkable
class Console(Protocol):
    options: ConsoleOptions  # what the console was opened with
    clock: Callable[[], float]  # what stopwatches read (tests pass a fixed one)
    loaded: Loaded | None  # the runbook the console shows
    session: Session | None  # the session it presents, once started or reopened
    drill_guard: ScenarioGuard | None  # a drill scenario's setup/teardown around the session

    @property
    def is_drill(self) -> bool: ...

    @property
    def busy(self) -> bool:
        """An engine call (a step, the checks) is running."""
        ...

    def engine(self, work: Coroutine[Any, Any, Any], what: str, *, group: str = "engine") -> Worker[Any]:
        """Run engine work in a worker; its error becomes a notification."""
        ...

    def listen(self, screen: Screen[Any]) -> None:
        """``screen`` gets the engine's events in batches (``EngineEvents``)."""
        ...

    def unlisten(self, screen: Screen[Any]) -> None: ...

    def open_runbook(self, path: str | Path) -> None: ...

    def start_session(self, options: StartOptions) -> Worker[None]: ...

    def resume_session(self, ref: str) -> Worker[None]: ...

    def show_first(self) -> None:
        """The session screen where the session stands (triage, pre-checks or the plan)."""
        ...

    def run_plan(self) -> None: ...

    def action_show(self, name: str) -> None:
        """Show the session screen ``name`` (triage, prechecks, plan, ...)."""
        ...

    def is_session_screen(self, screen: Screen[Any]) -> bool: ...
