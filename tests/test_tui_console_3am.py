"""The console at 3 a.m.: plan A in a handful of keys, verification by itself, `q` that asks,
a confirmation that fits 80x24, the reason of a failure in full, no "Blocking" while checks run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from screens.confirm import ConfirmScreen
from screens.incident_start import IncidentStartScreen
from screens.plan import PlanScreen
from screens.prechecks import PrechecksScreen
from screens.question import ChoiceScreen
from screens.triage import TriageScreen
from tests.tui_helpers import DATA, make_app, screen_lines, settle
from tui.app import RbConsoleApp
from tui.engine import store

FAST = DATA / "console_fast.toml"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RBCONSOLE_HOME", str(tmp_path / "home"))
    return tmp_path


class Keys:
    """Presses keys and counts them (typed text counted apart: the issue's budget leaves it out)."""

    def __init__(self, pilot: Pilot[int]) -> None:
        self.pilot = pilot
        self.keys = 0
        self.typed = 0

    async def press(self, *keys: str) -> None:
        for key in keys:
            self.keys += 1
            await self.pilot.press(key)
            await self.pilot.pause()

    async def type(self, text: str) -> None:
        self.typed += len(text)
        await self.pilot.press(*text)


def letters(rows: list[str]) -> str:
    """The words on screen without spaces, borders and line breaks (a wrapped sentence reads whole)."""
    return "".join(ch for row in rows for ch in row if ch.isalnum() or ch in ":-.'")


def step_started(app: RbConsoleApp, step_id: str) -> bool:
    return app.session is not None and any(
        e.type == "step_started" and e.data.get("id") == step_id for e in app.session.events
    )


async def wait_for(pilot: Pilot[int], condition: object, rounds: int = 200) -> None:
    for _ in range(rounds):
        if callable(condition) and condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


async def test_severity_to_plan_a_running_in_eight_keys_and_verification_by_itself(home: Path) -> None:
    app = make_app(FAST, values={"work_dir": str(home)})
    async with app.run_test(size=(80, 24)) as pilot:
        k = Keys(pilot)
        await k.press("enter")  # overview → incident form, focus on the reason
        await k.type("checkout 500s")
        await k.press("enter", "enter", "down", "enter")  # next field: severity P0
        await k.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, TriageScreen)
        await k.press("enter")  # ★ plan A (severity P0)
        await settle(app, pilot)
        assert isinstance(app.screen, PrechecksScreen)  # the checks run on their own
        await k.press("g")
        await wait_for(pilot, lambda: step_started(app, "flag_off"))
        assert k.keys <= 8, k.keys
        assert app.session is not None and app.session.state.plan == "A"
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await k.type("release")
        await k.press("enter")
        await settle(app, pilot, rounds=400)
        # no v pressed: the verification ran after the last step
        verified = [
            e.data["id"] for e in app.session.events if e.type == "check_finished" and e.data.get("phase") == "verify"
        ]
        assert verified == ["flag_file", "release_file"]
        assert "verification passed" in "\n".join(screen_lines(app))


async def test_open_with_plan_and_reason_lands_on_the_plan_past_the_form(home: Path) -> None:
    app = make_app(FAST, plan="A", reason="checkout 500s", values={"work_dir": str(home)})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await settle(app, pilot)
        assert isinstance(app.screen, PrechecksScreen)
        assert app.session is not None and app.session.state.plan == "A"
        assert app.session.state.meta.get("reason") == "checkout 500s"
        await pilot.press("g")  # one key: the plan runs
        await wait_for(pilot, lambda: step_started(app, "flag_off"))
        assert app.get_screen("plan") in app.screen_stack


async def test_open_with_a_missing_value_stops_on_the_form(home: Path) -> None:
    app = make_app(FAST, plan="A", reason="checkout 500s", values={"check_seconds": "soon"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        assert isinstance(app.screen, IncidentStartScreen)
        assert app.session is None


def test_open_refuses_an_unknown_plan() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "open", str(FAST), "--plan", "Z", "--reason", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "plan 'Z'" in done.stderr and "Traceback" not in done.stderr


async def test_enter_while_checks_run_says_running_not_blocking_then_opens_the_plan(home: Path) -> None:
    app = make_app(FAST, plan="A", reason="slow check", values={"check_seconds": "2", "work_dir": str(home)})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PrechecksScreen))
        await wait_for(pilot, lambda: "Running" in "\n".join(screen_lines(app)))
        shown = "\n".join(screen_lines(app))
        assert "Blocking" not in shown
        await pilot.press("enter")
        await pilot.pause()
        assert "then plan A opens" in "\n".join(screen_lines(app))
        await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), rounds=200)
        assert not step_started(app, "flag_off")  # enter opens the plan; it does not run it


async def test_the_confirmation_keeps_the_answer_and_the_field_on_an_80x24_screen(home: Path) -> None:
    app = make_app(FAST, plan="A", reason="x", values={"work_dir": str(home)})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PrechecksScreen))
        await settle(app, pilot)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.pause()
        await pilot.press(*"relea")
        await pilot.pause()
        field = app.screen.query_one("#confirm-input", Input)
        assert field.has_focus
        assert field.region.bottom <= 24 and field.region.height >= 1
        rows = screen_lines(app)
        assert any("Type 'release'" in row for row in rows)
        assert any("relea" in row for row in rows if "Type" not in row)  # what is typed is seen
        assert not any("line 18 of a long release switch" in row for row in rows)  # the rest scrolls
        await pilot.press("pagedown", "pagedown", "pagedown")
        await pilot.pause()
        assert any("line 18 of a long release switch" in row for row in screen_lines(app))
        assert app.screen.query_one("#confirm-input", Input).has_focus


async def test_a_failure_reason_is_on_screen_in_full_at_80_columns(home: Path) -> None:
    app = make_app(FAST, plan="B", reason="x")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PrechecksScreen))
        await settle(app, pilot)
        await pilot.press("enter")  # open the plan
        await settle(app, pilot)
        for run in ("enter", "g"):  # one step alone, then the plan: the reason in full either way
            await pilot.press(run)
            await settle(app, pilot)
            assert app.session is not None
            action = app.session.state.action("step", "provider")
            assert action is not None and action.status in ("failed", "error")
            detail = str(action.last.get("detail"))
            assert "every-card-brand" in detail  # the long URL is in the reason
            flat = letters(screen_lines(app)[-8:])
            assert "providerfailed" in flat or "providererror" in flat, flat
            # wrapped, not cut at the right edge, and no notice over it
            assert letters([detail]) in flat, flat


async def test_q_on_the_overview_quits_at_once() -> None:
    app = make_app(FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_q_on_a_filled_form_asks_and_no_keeps_it() -> None:
    app = make_app(FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"checkout down", "enter")  # focus leaves the text field: the severity select
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert "lose the incident form" in "\n".join(screen_lines(app))
        await pilot.press("enter")  # "No" comes first
        await pilot.pause()
        assert isinstance(app.screen, IncidentStartScreen)
        assert app.screen.query_one("#start-reason", Input).value == "checkout down"


async def test_q_with_a_session_open_says_it_stays_interrupted_and_how_to_resume(home: Path) -> None:
    app = make_app(FAST, plan="A", reason="x", values={"work_dir": str(home)})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PrechecksScreen))
        await settle(app, pilot)
        assert app.session is not None
        session_id = app.session.id
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.pause(0.2)
        text = letters(screen_lines(app))
        assert "staysinterrupted" in text and letters([f"rbconsole resume {session_id}"]) in text
        assert "F7thenx" in text  # how to end it instead: the record screen's x (export does not end it)
        await pilot.press("down", "enter")  # Yes
        await pilot.pause(0.5)
    sessions = {s.id: s for s in store.list_sessions()}
    assert sessions[session_id].status == "interrupted"


SEED_001 = Path(__file__).resolve().parent.parent / "runbooks" / "wechat-backend-phase1.toml"


async def test_the_profile_dropdown_shows_cjk_titles_whole() -> None:
    app = make_app(SEED_001)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        app.screen.query_one("#start-profile").focus()
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert any("预发布环境（演练用）" in row for row in screen_lines(app))


async def test_long_check_titles_leave_the_target_and_detail_columns_on_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WECHAT_BACKEND_ADMIN_KEY", "x-admin-key-value")
    app = make_app(SEED_001, plan="A", reason="diagnosis stuck")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PrechecksScreen), rounds=400)
        await settle(app, pilot, rounds=600)
        header = screen_lines(app)[1]
        assert "Target" in header and "Detail" in header, header
        assert all(len(row) <= 80 for row in screen_lines(app))


def test_a_dry_run_is_never_called_live() -> None:
    from screens.status import mode_text

    assert mode_text({"mode": "live", "dry_run": True}) == "live · dry run"
    assert mode_text({"mode": "drill", "dry_run": True}) == "drill · dry run"
    assert mode_text({"mode": "live"}) == "live"
