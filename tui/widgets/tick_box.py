"""A checkbox that reads without colour: its box is empty when off, X when on."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class TickBox(Checkbox):
    """Textual's checkbox shows X either way and tells on from off by colour alone, which a
    monochrome terminal or a tmux capture loses; "Dry run" must never be guessed."""

    def render(self) -> Content:
        # BUTTON_INNER is the documented character inside the box; value changes repaint.
        self.BUTTON_INNER = "X" if self.value else " "
        return super().render()
