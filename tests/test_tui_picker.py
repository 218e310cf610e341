"""The picker at 80 columns and from the keyboard: what fits, where down and enter go."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, Input
from textual.widgets.data_table import ColumnKey

from screens.overview import OverviewScreen
from screens.picker import PickerScreen
from tests.tui_helpers import make_app

BUNDLED = Path(__file__).parent.parent / "runbooks"


@pytest.fixture(autouse=True)
def only_bundled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RBCONSOLE_PATH", raising=False)


async def test_at_80_columns_service_versions_and_state_fit_and_long_titles_end_in_an_ellipsis() -> None:
    app = make_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#picker-table", DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        assert labels == ["", "Runbook", "Service", "Versions"]
        used = sum(c.get_render_width(table) for c in table.columns.values())
        assert used <= table.scrollable_content_region.width
        rows = {
            str(table.get_row_at(i)[2]): [str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)
        }
        assert rows["demo-web"][3] == "v2 → v1" and rows["demo-web"][0] == "✓"
        title_width = table.columns[ColumnKey("title")].width
        titles = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert all(cell_len(t) <= title_width for t in titles)
        assert any(t.endswith("…") for t in titles)  # the credit-db title is longer than the column
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert [str(c.label) for c in table.columns.values()][-1] == "File / first problem"


async def test_enter_in_the_filter_opens_the_first_match() -> None:
    app = make_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("/", *"demo", "enter")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        assert app.loaded is not None and Path(app.loaded.path).name == "demo.toml"


async def test_down_from_the_filter_moves_to_the_list_and_enter_opens_the_highlighted_one() -> None:
    app = make_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("/", *"rollback")
        screen = app.screen
        assert isinstance(screen, PickerScreen)
        table = screen.query_one("#picker-table", DataTable)
        await pilot.press("down")
        assert table.has_focus and table.cursor_row == 0
        await pilot.press("down")
        assert table.cursor_row == 1
        wanted = screen.shown[1].path
        await pilot.press("up", "up")  # past the first row: back in the filter
        assert screen.query_one(Input).has_focus
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        assert app.loaded is not None and Path(app.loaded.path) == wanted
