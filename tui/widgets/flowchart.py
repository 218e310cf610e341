"""The decision flowchart, drawn as a graph where it fits and as an indented outline where it would
not (or as the operator toggles it), with the triage path highlighted in theme colours."""

from __future__ import annotations

from typing import Literal

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.widget import Widget

from tui.runbook.model import Flow
from tui.widgets.flowgraph import Marks, draw_flow, outline_flow

Mode = Literal["auto", "graph", "outline"]


class FlowChart(Widget):
    """Boxes and arrows when the graph fits the width it is given, else the outline (``mode`` "auto");
    "graph" keeps the graph (its pane scrolls), "outline" keeps the outline."""

    DEFAULT_CSS = """
    FlowChart {
        width: auto;
        height: auto;
    }
    """

    path: reactive[tuple[str, ...]] = reactive((), layout=True)
    current: reactive[str | None] = reactive(None)
    mode: reactive[Mode] = reactive("auto", layout=True)

    def __init__(self, flow: Flow, plan_titles: dict[str, str] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.flow = flow
        self.plan_titles = plan_titles or {}
        self._cache: dict[tuple[object, ...], tuple[list[Text], dict[str, tuple[int, int, int, int]]]] = {}
        self.room = 0  # the width the container offers (the last layout's)

    def _styles(self) -> dict[str, Style]:
        theme = self.app.current_theme
        accent = theme.accent or "yellow"
        primary = theme.primary or "blue"
        success = theme.success or "green"
        return {
            "path": Style(color=accent, bold=True),
            "path_label": Style(color=accent, bold=True),
            "current": Style(color=theme.background or "black", bgcolor=accent, bold=True),
            "label": Style(color=primary),
            "leaf": Style(color=success),
        }

    def _drawn(self, kind: str, width: int) -> tuple[list[Text], dict[str, tuple[int, int, int, int]]]:
        # Layout asks for width and height before rendering; draw once per path, theme and width.
        key = (kind, width if kind == "outline" else 0, self.path, self.current, self.app.theme)
        if key not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            where: dict[str, tuple[int, int, int, int]] = {}
            marks = Marks(tuple(self.path), self.current, self.plan_titles, self._styles())
            if kind == "graph":
                rows = draw_flow(self.flow, marks, where)
            else:
                rows = outline_flow(self.flow, width, marks, where)
            self._cache[key] = (rows, where)
        return self._cache[key]

    @property
    def graph_width(self) -> int:
        return max((row.cell_len for row in self._drawn("graph", 0)[0]), default=0)

    def shown_as(self, room: int | None = None) -> Literal["graph", "outline"]:
        """What is drawn in ``room`` cells (default: the room the last layout gave)."""
        if self.mode != "auto":
            return self.mode
        room = self.room if room is None else room
        return "graph" if self.graph_width <= room else "outline"

    def toggle(self) -> None:
        self.mode = "graph" if self.shown_as() == "outline" else "outline"

    def _current(self) -> tuple[list[Text], dict[str, tuple[int, int, int, int]]]:
        kind = self.shown_as()
        return self._drawn(kind, max(self.room, 20))

    def node_region(self, node_id: str) -> Region | None:
        """Where a node is, relative to this widget (to scroll it into view)."""
        box = self._current()[1].get(node_id)
        return Region(*box) if box else None

    def get_content_width(self, container: Size, viewport: Size) -> int:
        self.room = container.width
        if self.shown_as() == "outline":
            return container.width
        return self.graph_width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._current()[0])

    def render(self) -> Group:
        return Group(*self._current()[0])
