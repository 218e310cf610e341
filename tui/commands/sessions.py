"""``rbconsole sessions``: recorded sessions, newest last, one line each that fits 80 columns:
id, when it started, how it ended (or that it is running / was interrupted), who, what."""

from __future__ import annotations

import argparse
import shutil
import time
import unicodedata

from tui.engine.results import EXIT_OK

OPERATOR_CELLS = 12


def width(text: str) -> int:
    """Terminal cells: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cells: int) -> str:
    return text + " " * max(0, cells - width(text))


def clip(text: str, cells: int) -> str:
    """``text`` cut to ``cells`` terminal cells, with an ellipsis when cut."""
    if width(text) <= cells:
        return text
    out = ""
    for ch in text:
        if width(out + ch) > cells - 1:
            break
        out += ch
    return out + "…"


def main(args: argparse.Namespace) -> int:
    from tui.engine.results import label
    from tui.engine.store import list_sessions

    rows = [("SESSION", "STARTED", "STATE", "OPERATOR", "RUNBOOK")]
    for info in list_sessions():
        meta = info.state.meta
        state = label(info.status) + (" (drill)" if meta.get("mode") == "drill" else "")
        plan = f" plan {info.state.plan}" if info.state.plan else ""
        started = time.strftime("%m-%d %H:%M", time.localtime(info.state.started)) if info.state.started else "?"
        operator = clip(str(meta.get("operator", "")), OPERATOR_CELLS)
        rows.append((info.id, started, state, operator, f"{meta.get('runbook_id', '?')}{plan}"))
    if len(rows) == 1:
        print("no recorded sessions")
        return EXIT_OK
    widths = [max(width(r[i]) for r in rows) for i in range(4)]
    room = max(shutil.get_terminal_size((80, 24)).columns, 40) - sum(widths) - 2 * 4
    for row in rows:
        print("  ".join(pad(v, widths[i]) for i, v in enumerate(row[:4])) + "  " + clip(row[4], max(room, 8)))
    return EXIT_OK
