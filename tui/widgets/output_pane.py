"""A live output pane that keeps up with a flood: a bounded ring of lines, repainted on a timer.

Appending is a ``deque.extend`` (C speed) and marks the pane dirty; a timer repaints only the
visible rows ~20 times a second, so a million lines cost a million appends and twenty paints,
not a million paints. The full output is on disk; the pane keeps ``capacity`` lines.
"""

from __future__ import annotations

import re
from collections import deque
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import MouseScrollUp
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

REPAINT_HZ = 20
# Escape sequences and control characters would move the terminal's cursor: drop them when painting.
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")


class _Stderr(str):
    __slots__ = ()


class _Info(str):
    __slots__ = ()


class OutputPane(ScrollView, can_focus=True):
    """Step output. Follows the tail until the operator scrolls up; ``end`` follows again."""

    DEFAULT_CSS = """
    OutputPane {
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    OutputPane:focus {
        background-tint: $foreground 3%;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("end", "follow", "Follow", show=False, id="output.follow"),
        Binding("home", "scroll_home", "Top", show=False, id="output.top"),
    ]

    def __init__(self, capacity: int = 10_000, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.lines: deque[str] = deque(maxlen=capacity)
        self.written = 0
        self.follow = True
        self.search: str = ""
        self._partial = ""
        self._dirty = False
        self._err_style = Style(color="red")
        self._info_style = Style(dim=True, italic=True)
        self._match_style = Style(reverse=True, bold=True)

    def on_mount(self) -> None:
        self.set_interval(1 / REPAINT_HZ, self.flush, name="output-repaint")
        theme = self.app.current_theme
        if theme is not None and theme.error:
            self._err_style = Style(color=theme.error)

    def write_lines(self, lines: list[str]) -> None:
        """Append whole lines (without newlines)."""
        self.lines.extend(lines)
        self.written += len(lines)
        self._dirty = True

    def write(self, text: str, stream: str = "stdout") -> None:
        """Append a chunk of one or more lines; a chunk not ending in a newline is completed by the next."""
        if self._partial:
            text = self._partial + text
            self._partial = ""
        parts = text.split("\n")
        if parts[-1]:
            self._partial = parts[-1]
        del parts[-1]
        if stream == "stderr":
            parts = [_Stderr(p) for p in parts]
        elif stream == "info":
            parts = [_Info(p) for p in parts]
        self.write_lines(parts)

    def clear(self) -> None:
        self.lines.clear()
        self._partial = ""
        self.written = 0
        self.follow = True
        self._dirty = True

    @property
    def last_line(self) -> str:
        return self.lines[-1] if self.lines else ""

    def flush(self) -> None:
        """Repaint if anything arrived since the last repaint (the timer calls this)."""
        if not self._dirty:
            return
        self._dirty = False
        self.virtual_size = Size(self.size.width, len(self.lines))
        if self.follow:
            # The painted rows come from _top(), not scroll_y: the scroll position only moves the
            # scrollbar, so a clamp against a stale virtual size can never freeze the tail.
            self.scroll_to(y=self._top(), animate=False, immediate=True)
        self.refresh()

    def _top(self) -> int:
        if self.follow:
            return max(0, len(self.lines) - self.size.height)
        return int(self.scroll_y)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if not self.follow and self.max_scroll_y > 0 and new >= self.max_scroll_y:
            self.follow = True

    def _stop_following(self) -> None:
        if self.follow:
            self.follow = False
            self.scroll_to(y=max(0, len(self.lines) - self.size.height), animate=False, immediate=True)

    def action_scroll_up(self) -> None:
        self._stop_following()
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self._stop_following()
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self._stop_following()
        super().action_scroll_home()

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        self._stop_following()

    def action_follow(self) -> None:
        self.follow = True
        self._dirty = True
        self.flush()

    def find(self, term: str) -> int | None:
        """Highlight ``term`` and scroll to its last occurrence; returns its line index or None."""
        self.search = term
        self.refresh()
        if not term:
            return None
        for index in range(len(self.lines) - 1, -1, -1):
            if term in self.lines[index]:
                self.follow = False
                self.scroll_to(y=max(0, index - self.size.height // 2), animate=False)
                return index
        return None

    def render_line(self, y: int) -> Strip:
        index = self._top() + y
        width = self.size.width
        if index >= len(self.lines) or width <= 0:
            return Strip.blank(width, self.rich_style)
        raw = self.lines[index]
        line = _CONTROL.sub("", raw.expandtabs(8))
        base = self.rich_style
        if isinstance(raw, _Stderr):
            base = base + self._err_style
        elif isinstance(raw, _Info):
            base = base + self._info_style
        if self.search and self.search in line:
            text = Text(line, style=base, no_wrap=True, end="")
            text.highlight_words([self.search], self._match_style)
            segments = list(text.render(self.app.console))
        else:
            segments = [Segment(line, base)]
        return Strip(segments).crop_extend(0, width, self.rich_style)
