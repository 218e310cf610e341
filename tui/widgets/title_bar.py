"""One line naming the runbook, the versions and where the operator is; DRILL when drilling."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.runbook.model import Runbook


class TitleBar(Static):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def __init__(self, runbook: Runbook | None, where: str, *, dry_run: bool = False) -> None:
        super().__init__(self.describe(runbook, where, dry_run=dry_run))

    @staticmethod
    def describe(runbook: Runbook | None, where: str, *, dry_run: bool = False) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if dry_run:
            # First, so a narrow terminal never cuts it: a dry run must not pass for the real thing.
            text.append(" DRY RUN ", style="reverse bold")
            text.append(" ")
        text.append(where, style="bold")
        if runbook is not None:
            text.append("  ")
            text.append(runbook.title)
            if runbook.current_version or runbook.target_version:
                text.append(f"  {runbook.current_version or '?'} → {runbook.target_version or '?'}", style="dim")
        return text
