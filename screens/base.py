"""What every screen of a started session shares: title bar, drill banner, engine events.

A screen first replays the journal (so it shows the session whatever happened before it was
first shown) and then applies the batches the app posts; journaled events carry a sequence
number, so none is applied twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from screens.console import Console
from screens.status import themed
from tui.engine.events import OUTPUT, Event
from tui.widgets.drill_banner import DrillBanner
from tui.widgets.messages import EngineEvents
from tui.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from tui.engine.session import Session
    from tui.runbook.model import Runbook


class ConsoleScreen(Screen[Any]):
    """A full screen of the console with its title bar, a drill banner when drilling, a footer."""

    WHERE = ""

    @property
    def console(self) -> Console:
        """The app, as the screens see it (the concrete app is one layer up)."""
        return cast(Console, self.app)

    @property
    def runbook(self) -> Runbook:
        loaded = self.console.loaded
        assert loaded is not None and loaded.runbook is not None
        return loaded.runbook

    def _on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.redraw())

    def themed(self, style: str) -> str:
        """A Rich style with the current theme's ``$name`` colours filled in."""
        return themed(style, self.app.theme_variables)

    def redraw(self) -> None:
        """Repaint what carries theme colours or session state (override)."""

    def compose_top(self, runbook: Runbook | None) -> ComposeResult:
        session = self.console.session
        yield TitleBar(runbook, self.WHERE, dry_run=bool(session is not None and session.state.meta.get("dry_run")))
        if self.console.is_drill:
            yield DrillBanner()

    def compose_bottom(self) -> ComposeResult:
        # Compact: the plan's keys all fit in 80 columns.
        yield Footer(compact=True)


class SessionScreen(ConsoleScreen):
    """A screen that presents the running session."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    @property
    def session(self) -> Session:
        session = self.console.session
        assert session is not None
        return session

    def on_mount(self) -> None:
        self.console.listen(self)
        for event in self.session.events:
            self._apply(event)

    def on_unmount(self) -> None:
        self.console.unlisten(self)

    def on_engine_events(self, message: EngineEvents) -> None:
        for event in message.events:
            self._apply(event)
        self.after_events()

    def _apply(self, event: Event) -> None:
        if event.type != OUTPUT:
            if event.seq <= self.seen:
                return
            self.seen = event.seq
        self.show_event(event)

    def show_event(self, event: Event) -> None:
        """Show one event (override)."""

    def after_events(self) -> None:
        """Called once per batch after its events (override to repaint once)."""
