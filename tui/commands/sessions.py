"""``rbconsole sessions``: recorded sessions, newest last (id, runbook, operator, started, state)."""

from __future__ import annotations

import argparse
import unicodedata

from tui.cli import EXIT_OK


def width(text: str) -> int:
    """Terminal cells: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cells: int) -> str:
    return text + " " * max(0, cells - width(text))


def main(args: argparse.Namespace) -> int:
    from tui.engine.store import list_sessions
    from tui.record.build import stamp

    rows = [("SESSION", "RUNBOOK", "OPERATOR", "STARTED", "STATE")]
    for info in list_sessions():
        meta = info.state.meta
        state = info.status + (" (drill)" if meta.get("mode") == "drill" else "")
        state += " (dry-run)" if meta.get("dry_run") else ""
        plan = f" plan {info.state.plan}" if info.state.plan else ""
        rows.append(
            (
                info.id,
                f"{meta.get('runbook_id', '?')}{plan}",
                meta.get("operator", ""),
                stamp(info.state.started),
                state,
            )
        )
    if len(rows) == 1:
        print("no recorded sessions")
        return EXIT_OK
    widths = [max(width(str(r[i])) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(pad(str(v), widths[i]) for i, v in enumerate(row[:4])) + "  " + row[4])
    return EXIT_OK
