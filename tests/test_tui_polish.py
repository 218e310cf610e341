"""What a tired operator leans on: the dry-run mark, the keys in the footer, filled-in templates,
the running step in view, statuses in the theme's colours."""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from textual.content import Content
from textual.theme import Theme
from textual.widgets import DataTable, Static

from screens.contacts import ContactsScreen
from screens.plan import PlanScreen
from screens.status import status_text, themed
from screens.triage import TriageScreen
from tests.tui_helpers import FLOW, make_app, settle, start_incident, to_plan
from tui.widgets.tick_box import TickBox
from tui.widgets.title_bar import TitleBar


def footer_keys(app: object) -> dict[str, str]:
    screen = app.screen  # type: ignore[attr-defined]
    return {b.binding.key: b.binding.description for b in screen.active_bindings.values() if b.binding.show}


async def test_templates_fill_in_the_plan_title_and_mark_what_is_not_known(tmp_path: Path) -> None:
    runbook = tmp_path / "flow.toml"
    body = 'body = "Rolling back {{ service }} from {{ current_version }} to {{ target_version }}: {{ reason }}"'
    text = FLOW.read_text()
    assert body in text
    runbook.write_text(text.replace(body, 'body = "{{ plan }} ({{ plan_title }}) by {{ operator }} at {{ now }}"'))
    app = make_app(runbook, operator="ana")
    async with app.run_test(size=(100, 30)) as pilot:
        await start_incident(app, pilot, tmp_path)
        await pilot.press("enter")  # P0
        await settle(app, pilot)
        await pilot.press("enter")  # plan A
        await settle(app, pilot)
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, ContactsScreen)
        shown = app.screen.query(".template-body").first(Static).render()
        assert isinstance(shown, Content)
        assert shown.plain == "A (Code rollback) by ana at {{ now }}"
        marked = [shown.plain[span.start : span.end] for span in shown.spans]
        assert marked == ["{{ now }}"]  # the one value the operator fills in by hand


async def test_a_dry_run_says_so_on_every_session_screen(tmp_path: Path) -> None:
    app = make_app(FLOW, dry_run=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"drill", "tab", "tab", "ctrl+a", "ctrl+k", *str(tmp_path), "ctrl+s")
        await settle(app, pilot)
        for key in ("f2", "f3", "f5", "f6", "f7"):
            await pilot.press(key)
            await pilot.pause()
            title = str(app.screen.query_one(TitleBar).render())
            assert title.startswith(" DRY RUN "), (key, title)
    live = make_app(FLOW)
    async with live.run_test(size=(80, 24)) as pilot:
        await start_incident(live, pilot, tmp_path)
        assert "DRY RUN" not in str(live.screen.query_one(TitleBar).render())


async def test_enter_is_in_the_footer_of_triage_and_plan_and_still_searches_the_output(tmp_path: Path) -> None:
    app = make_app(FLOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_incident(app, pilot, tmp_path)
        assert isinstance(app.screen, TriageScreen)
        assert footer_keys(app).get("enter") == "Answer / choose plan"
    app = make_app(FLOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await to_plan(app, pilot, tmp_path)
        assert isinstance(app.screen, PlanScreen)
        assert footer_keys(app).get("enter") == "Run step"
        await pilot.press("enter")  # announce
        await settle(app, pilot)
        assert app.session is not None
        await pilot.press("slash", *"line 7", "enter")  # a search, not a step
        await settle(app, pilot)
        assert app.session.pending_steps() == ["destroy", "after"]
        assert app.screen.query_one("#steps", DataTable).has_focus


async def test_the_steps_table_follows_the_running_step(tmp_path: Path) -> None:
    app = make_app(FLOW, dry_run=True)  # no confirmation stops the run
    async with app.run_test(size=(120, 40)) as pilot:
        await to_plan(app, pilot, tmp_path)
        table = app.screen.query_one("#steps", DataTable)
        assert table.cursor_row == 0
        await pilot.press("g")  # run the rest
        await settle(app, pilot)
        assert app.session is not None and app.session.pending_steps() == []
        assert table.cursor_row == 2  # the last step that ran, not where the cursor was left


def test_status_colours_come_from_the_theme() -> None:
    variables = {"success": "#00ff01", "error": "#ff0002", "warning": "#ffff03", "accent": "#0000f4"}
    assert Style.parse(str(status_text("ok", variables).style)).color.name == "#00ff01"  # type: ignore[union-attr]
    assert Style.parse(str(status_text("failed", variables).style)).color.name == "#ff0002"  # type: ignore[union-attr]
    assert Style.parse(str(status_text("unknown", variables).style)).color.name == "#ffff03"  # type: ignore[union-attr]
    assert themed("bold $nope", variables) == "bold"


async def test_a_theme_change_recolours_the_statuses(tmp_path: Path) -> None:
    app = make_app(FLOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await to_plan(app, pilot, tmp_path)
        await pilot.press("enter")  # announce passes
        await settle(app, pilot)
        table = app.screen.query_one("#steps", DataTable)

        def tick_colour() -> str:
            cell = table.get_cell("step:announce", "status")
            return Style.parse(str(cell.style)).color.name  # type: ignore[union-attr]

        dark = tick_colour()
        assert dark == app.theme_variables["success"].lower()
        app.register_theme(Theme(name="night-shift", primary="#336699", success="#11aa22", dark=True))
        app.theme = "night-shift"
        await pilot.pause()
        await pilot.pause()
        assert dark != "#11aa22" and tick_colour() == "#11aa22"


async def test_tick_boxes_read_without_colour() -> None:
    app = make_app(FLOW, drill=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        drill, dry_run = app.screen.query_one("#start-drill", TickBox), app.screen.query_one("#start-dry-run", TickBox)
        assert drill.render().plain.startswith("▐X▌ Drill") and dry_run.render().plain.startswith("▐ ▌ Dry run")
        dry_run.value = True
        assert dry_run.render().plain.startswith("▐X▌ Dry run")
