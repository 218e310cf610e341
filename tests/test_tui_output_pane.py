"""The output pane: bounded, complete lines, and the last line written is the last line painted."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tui.widgets.output_pane import OutputPane


class PaneApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OutputPane(capacity=500)


def screen_lines(app: App[None]) -> list[str]:
    return [strip.text.rstrip() for strip in app.screen._compositor.render_strips()]


async def wait_painted(app: App[None], pilot: Pilot[None], line: str) -> list[str]:
    """Screen rows once ``line`` is the last painted one (bounded: 2 s of 20 Hz repaints)."""
    for _ in range(40):
        rows = [r for r in screen_lines(app) if r]
        if rows and rows[-1] == line:
            return rows
        await pilot.pause(0.05)
    raise AssertionError(f"{line!r} never reached the screen; last rows: {screen_lines(app)[-3:]}")


async def test_last_line_written_is_last_line_on_screen_after_the_ring_wraps() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(OutputPane)
        for batch in range(20):
            pane.write("".join(f"line {batch * 1000 + i}\n" for i in range(1000)))
            rows = await wait_painted(app, pilot, f"line {batch * 1000 + 999}")
            assert rows == [f"line {batch * 1000 + 1000 - 12 + i}" for i in range(12)]
        assert len(pane.lines) == 500 and pane.written == 20_000


async def test_chunks_are_joined_into_whole_lines_and_control_codes_not_painted() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(OutputPane)
        pane.write("hal")
        pane.write("f a line\nsecond \x1b[31mred\x1b[0m\n")
        pane.write("boom\n", "stderr")
        assert list(pane.lines) == ["half a line", "second \x1b[31mred\x1b[0m", "boom"]
        rows = await wait_painted(app, pilot, "boom")
        assert rows[-2] == "second red"


async def test_search_scrolls_to_the_last_match_and_stops_following() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(OutputPane)
        pane.write("".join(f"row {i}{' needle' if i == 100 else ''}\n" for i in range(400)))
        await wait_painted(app, pilot, "row 399")
        assert pane.find("needle") == 100
        assert not pane.follow
        await pilot.pause()
        assert "row 100 needle" in screen_lines(app)
        pane.write("row 400\n")
        await pilot.pause(0.1)
        assert "row 400" not in screen_lines(app)  # the operator is reading; the pane stays put
        pane.action_follow()
        await wait_painted(app, pilot, "row 400")
        assert pane.find("absent") is None
