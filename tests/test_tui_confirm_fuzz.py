"""1,000 random keys around a destructive step never run it without the typed confirmation."""

from __future__ import annotations

import random
from pathlib import Path

from textual import events
from textual.pilot import Pilot

from screens.confirm import ConfirmScreen
from screens.plan import PlanScreen
from tests.tui_helpers import close_modals, make_app, settle, to_plan
from tui.app import RbConsoleApp
from tui.engine.events import CONFIRMATION, STEP_STARTED

KEY_COUNT = 1000
CHUNK = 5
# Everything an operator's fingers could hit, except q (quitting ends the test, not the risk).
KEYS = [
    *"abcdefghijklmnoprstuvwxyz0123456789-_.",
    "space",
    "enter",
    "escape",
    "tab",
    "backspace",
    "up",
    "down",
    "slash",
]


async def burst(app: RbConsoleApp, pilot: Pilot[int], keys: list[str]) -> None:
    """Keys as a fast typist sends them: queued at once, then wait for the app to catch up."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        char = " " if key == "space" else "/" if key == "slash" else key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        driver.send_message(event)
    await pilot.pause()


async def test_random_keys_never_run_the_destructive_step(tmp_path: Path) -> None:
    rng = random.Random(4)
    app = make_app()
    modal_seen = 0
    async with app.run_test(size=(100, 30)) as pilot:
        await to_plan(app, pilot, tmp_path)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        for _ in range(KEY_COUNT // CHUNK):
            await burst(app, pilot, [rng.choice(KEYS) for _ in range(CHUNK)])
            modal_seen += isinstance(app.screen, ConfirmScreen)
            if isinstance(app.screen, PlanScreen) and not app.busy and rng.random() < 0.3:
                await pilot.press("up", "up", "down", "enter")  # back to the destructive step
        await close_modals(app, pilot)
        await settle(app, pilot)
        assert app.session is not None
        events = app.session.events
    assert modal_seen > 40  # the keys really hit the confirmation, again and again
    confirmations = [e.data for e in events if e.type == CONFIRMATION and e.data.get("id") == "destroy"]
    assert confirmations and all(c["answer"] == "no" for c in confirmations)
    assert not [e for e in events if e.type == STEP_STARTED and e.data.get("id") == "destroy"]
    assert not (tmp_path / "tui-flow-destroyed").exists()
