"""The decision flowchart drawn as a graph, with the triage path highlighted in theme colours."""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.widget import Widget

from tui.runbook.model import Flow
from tui.widgets.flowgraph import draw_flow


class FlowChart(Widget):
    """Boxes and arrows; scroll it when the graph is wider or taller than the pane."""

    DEFAULT_CSS = """
    FlowChart {
        width: auto;
        height: auto;
    }
    """

    path: reactive[tuple[str, ...]] = reactive((), layout=True)
    current: reactive[str | None] = reactive(None)

    def __init__(self, flow: Flow, plan_titles: dict[str, str] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.flow = flow
        self.plan_titles = plan_titles or {}
        self._cache: tuple[tuple[object, ...], list[Text]] | None = None
        self.boxes: dict[str, tuple[int, int, int, int]] = {}

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

    def _rows(self) -> list[Text]:
        # Layout asks for width and height before rendering; draw once per path and theme.
        key = (self.path, self.current, self.app.theme)
        if self._cache is None or self._cache[0] != key:
            rows = draw_flow(self.flow, list(self.path), self.current, self.plan_titles, self._styles(), self.boxes)
            self._cache = (key, rows)
        return self._cache[1]

    def node_region(self, node_id: str) -> Region | None:
        """Where a node's box is, relative to this widget (to scroll it into view)."""
        self._rows()
        box = self.boxes.get(node_id)
        return Region(*box) if box else None

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((row.cell_len for row in self._rows()), default=0)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._rows())

    def render(self) -> Group:
        return Group(*self._rows())
