"""How every screen looks, at 80x24 and 120x40 (SVGs under snapshots/test_tui_snapshots/).

Deterministic: a fixed clock, no cursor blink, wall-clock times and machine names masked,
the picker limited to tests/data.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

import screens.record
import screens.timeline
from tests.tui_helpers import CJK, DATA, FLOW, make_app, settle, start_incident
from tui import paths

SIZES = [(80, 24), (120, 40)]
Steps = Callable[[Pilot[int]], Awaitable[None]]


async def steady(pilot: Pilot[int]) -> None:
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


async def started(pilot: Pilot[int]) -> None:
    await start_incident(pilot.app, pilot)  # type: ignore[arg-type]


async def triaged(pilot: Pilot[int]) -> None:
    await started(pilot)
    await pilot.press("enter")
    await settle(pilot.app, pilot)  # type: ignore[arg-type]


async def prechecked(pilot: Pilot[int]) -> None:
    await triaged(pilot)
    await pilot.press("enter")
    await settle(pilot.app, pilot)  # type: ignore[arg-type]


async def on_plan(pilot: Pilot[int]) -> None:
    await prechecked(pilot)
    await pilot.press("enter")
    await settle(pilot.app, pilot)  # type: ignore[arg-type]


async def step_ran(pilot: Pilot[int]) -> None:
    await on_plan(pilot)
    await pilot.press("enter")
    await settle(pilot.app, pilot)  # type: ignore[arg-type]


async def confirming(pilot: Pilot[int]) -> None:
    await step_ran(pilot)
    await pilot.press("enter", *"dest")
    await pilot.pause()


def keys(*pressed: str, after: Steps = step_ran) -> Steps:
    async def run(pilot: Pilot[int]) -> None:
        await after(pilot)
        await pilot.press(*pressed)
        await settle(pilot.app, pilot)  # type: ignore[arg-type]

    return run


async def nothing(pilot: Pilot[int]) -> None:
    return None


CASES: dict[str, tuple[Path | None, Steps]] = {
    "picker": (None, nothing),
    "overview": (FLOW, nothing),
    "overview_cjk": (CJK, nothing),
    "incident_start": (FLOW, keys("enter", after=nothing)),
    "triage": (FLOW, started),
    "triage_recommendation": (FLOW, triaged),
    "triage_cjk": (CJK, keys("down", "enter", after=started)),
    "prechecks": (FLOW, prechecked),
    "plan": (FLOW, step_ran),
    "confirm": (FLOW, confirming),
    "checklists": (FLOW, keys("f5", "space")),
    "timeline": (FLOW, keys("f6", "n", *"called the tech lead", "enter")),
    "record": (FLOW, keys("f7")),
    "contacts": (FLOW, keys("f8")),
    "help": (FLOW, keys("question_mark")),
}


@pytest.fixture
def masked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "no-bundled-runbooks"
    empty.mkdir()
    monkeypatch.setattr(paths, "bundled_runbooks", lambda: empty)
    monkeypatch.setenv("RBCONSOLE_PATH", str(DATA))
    monkeypatch.setattr(screens.timeline, "when", lambda ts, first: ("12:00:00", "+0:00"))
    real = screens.record.RecordScreen.render_markdown

    def masked_record(self: screens.record.RecordScreen) -> str:
        text = real(self)
        for name in {self.session.id, *_machine_names()}:
            text = text.replace(name, "X")
        return re.sub(r"\d+(\.\d+)?", "0", text)

    monkeypatch.setattr(screens.record.RecordScreen, "render_markdown", masked_record)


def _machine_names() -> set[str]:
    import getpass
    import socket

    return {socket.gethostname(), getpass.getuser()}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", list(CASES))
def test_screen(case: str, size: tuple[int, int], snap_compare, masked: None) -> None:
    runbook, steps = CASES[case]

    async def run_before(pilot: Pilot[int]) -> None:
        await steps(pilot)
        await steady(pilot)

    app = make_app(runbook, operator="ana")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_drill_banner(snap_compare, masked: None) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await step_ran(pilot)
        await steady(pilot)

    app = make_app(FLOW, operator="ana", drill=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


BUNDLED = Path(__file__).parent.parent / "runbooks"


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("runbook", ["partytix-risk", "shop-rollback"])
@pytest.mark.parametrize("view", ["auto", "toggled"])
def test_flowchart(view: str, runbook: str, size: tuple[int, int], snap_compare, masked: None) -> None:
    """The bundled runbooks' flowcharts as the overview first shows them, and toggled with t."""

    async def run_before(pilot: Pilot[int]) -> None:
        await pilot.pause()
        if view == "toggled":
            await pilot.press("t")
        await steady(pilot)

    app = make_app(BUNDLED / f"{runbook}.toml", operator="ana")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_confirm_with_a_long_description(snap_compare, masked: None) -> None:
    """At 80x24 the name to type and the field stay on screen; the description scrolls."""
    from screens.confirm import ConfirmScreen
    from screens.prechecks import PrechecksScreen

    async def run_before(pilot: Pilot[int]) -> None:
        app = pilot.app
        for _ in range(400):  # bounded: the incident starts by itself (--plan with --reason)
            if isinstance(app.screen, PrechecksScreen) and not app.busy:  # type: ignore[attr-defined]
                break
            await pilot.pause(0.05)
        await pilot.press("g")
        for _ in range(400):
            if isinstance(app.screen, ConfirmScreen):
                break
            await pilot.pause(0.05)
        await pilot.press(*"rel")
        await steady(pilot)

    app = make_app(
        DATA / "console_fast.toml", operator="ana", plan="A", reason="checkout 500s", values={"work_dir": "/tmp"}
    )
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
