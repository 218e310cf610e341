"""Typed messages from the app to its screens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tui.engine.events import Event


class EngineEvents(Message):
    """A batch of engine events (journaled ones and output chunks) in the order they happened."""

    def __init__(self, events: tuple[Event, ...]) -> None:
        super().__init__()
        self.events = events
