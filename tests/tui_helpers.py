"""Driving the console in tests: a fixed clock, waiting on workers instead of sleeping."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from tui.app import RbConsoleApp, create_app

DATA = Path(__file__).parent / "data"
FLOW = DATA / "tui_flow.toml"
CJK = DATA / "tui_cjk.toml"


def fixed_clock() -> float:
    return 1000.0


def make_app(runbook: Path | None = FLOW, **options: object) -> RbConsoleApp:
    return create_app(runbook, clock=fixed_clock, **options)  # type: ignore[arg-type]


async def settle(app: RbConsoleApp, pilot: Pilot[int], rounds: int = 100) -> None:
    """Wait until no engine work runs and the event batches have reached the screens (bounded)."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause(0.06)
        if not app.busy and not app._pending:
            return
    raise AssertionError("the console did not settle")


async def start_incident(app: RbConsoleApp, pilot: Pilot[int], reason: str = "api down") -> None:
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press(*reason)
    await pilot.press("ctrl+s")
    await settle(app, pilot)


async def to_plan(app: RbConsoleApp, pilot: Pilot[int]) -> None:
    """Overview → incident start → triage (P0) → plan A → pre-checks → plan screen."""
    await start_incident(app, pilot)
    await pilot.press("enter")  # P0: outage
    await settle(app, pilot)
    await pilot.press("enter")  # the recommended plan A
    await settle(app, pilot)
    await pilot.press("enter")  # pre-checks passed: start the plan
    await settle(app, pilot)
