"""A checkbox that reads without colour: its box is empty when off, X when on."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class TickBox(Checkbox):
    """Textual's checkbox shows X either way and tells on from off by colour alone, which a
    monochrome terminal or a tmux capture loses; "Dry run" must never be guessed."""

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = "X" if self.value else " "
        return super()._button
