"""Driving the console in tests: a fixed clock, waiting on workers instead of sleeping."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.screen import ModalScreen

from tui.app import RbConsoleApp, create_app
from tui.engine.api import StartOptions

DATA = Path(__file__).parent / "data"
FLOW = DATA / "tui_flow.toml"
CJK = DATA / "tui_cjk.toml"


def fixed_clock() -> float:
    return 1000.0


def make_app(
    runbook: Path | None = FLOW, *, resume: str | None = None, drill: bool = False, **start: object
) -> RbConsoleApp:
    """The console with a fixed clock; ``start`` are :class:`StartOptions` fields (``drill``: its mode)."""
    options = StartOptions(**start, mode="drill" if drill else "live")  # type: ignore[arg-type]
    return create_app(runbook, resume=resume, start=options, clock=fixed_clock)


async def settle(app: RbConsoleApp, pilot: Pilot[int], rounds: int = 200) -> None:
    """Wait (bounded) until no engine work runs and the event batches have reached the screens."""
    for _ in range(rounds):
        await pilot.pause(0.05)
        # Pre-checks run in their own worker group, which app.busy leaves out on purpose (the
        # operator may move on while they run): a test that reads their results waits for them.
        checking = any(w.group == "checks" and w.is_running for w in app.workers)
        if not app.busy and not checking and not app._pending:
            await pilot.pause(0.1)  # the last batch's message reaches its screen
            return
    raise AssertionError("the console did not settle")


async def close_modals(app: RbConsoleApp, pilot: Pilot[int]) -> None:
    for _ in range(10):
        if not isinstance(app.screen, ModalScreen):
            return
        await pilot.press("escape")


async def start_incident(
    app: RbConsoleApp, pilot: Pilot[int], marker_dir: Path | None = None, reason: str = "api down"
) -> None:
    """Fill the incident form (tui_flow.toml: reason, severity, marker_dir) and start."""
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*reason)
    if marker_dir is not None:
        await pilot.press("tab", "tab", "ctrl+a", "ctrl+k", *str(marker_dir))
    await pilot.press("ctrl+s")
    await settle(app, pilot)


async def to_plan(app: RbConsoleApp, pilot: Pilot[int], marker_dir: Path) -> None:
    """Overview → incident start → triage (P0) → plan A → pre-checks → plan screen."""
    await start_incident(app, pilot, marker_dir)
    await pilot.press("enter")  # P0: outage
    await settle(app, pilot)
    await pilot.press("enter")  # the recommended plan A
    await settle(app, pilot)
    await pilot.press("enter")  # pre-checks passed: start the plan
    await settle(app, pilot)


def screen_lines(app: RbConsoleApp) -> list[str]:
    """What the terminal shows, one string per row (wide characters once)."""
    return [strip.text.rstrip() for strip in app.screen._compositor.render_strips()]
