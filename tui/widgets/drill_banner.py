"""The banner that makes a drill impossible to mistake for a live incident."""

from __future__ import annotations

from textual.widgets import Static


class DrillBanner(Static):
    """Coloured from the app's ``$drill`` / ``$drill-text`` theme variables (a theme may override them)."""

    DEFAULT_CSS = """
    DrillBanner {
        width: 100%;
        height: 1;
        background: $drill;
        color: $drill-text;
        text-style: bold;
        content-align: center middle;
    }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__(text or "▲ DRILL ▲ rehearsal, not a live incident ▲ DRILL ▲", id="drill-banner")
