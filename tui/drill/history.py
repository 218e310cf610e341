"""Drill history: one summary file per finished drill under ``tui.paths.history_dir()``.

``history/<runbook id>/<session id>.json`` holds the :class:`DrillRun` folded from that drill's
journal. One file per drill (written to a temporary name, then renamed) means two drills
finishing at once never interleave, and a damaged file costs one entry, never the history.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from tui import paths
from tui.drill.summary import DrillRun

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _runbook_dir(runbook_id: str) -> Path:
    return paths.history_dir() / (_SAFE.sub("_", runbook_id) or "_")


def save(run: DrillRun) -> Path:
    """Keep ``run`` in the history (replacing an earlier summary of the same session)."""
    folder = _runbook_dir(run.runbook_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{_SAFE.sub('_', run.session) or 'session'}.json"
    temp = target.with_suffix(".json.tmp")
    with temp.open("w", encoding="utf-8") as handle:
        json.dump(run.to_dict(), handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, target)
    return target


def load(runbook_id: str, plan: str | None = None, *, dry_run: bool | None = False) -> list[DrillRun]:
    """Earlier drills of ``runbook_id`` (and ``plan``), oldest first.

    Dry runs are left out by default: they execute nothing, so their times say nothing about
    how long the real thing takes; pass ``dry_run=True`` to compare dry runs with each other,
    or ``None`` for every drill.
    """
    folder = _runbook_dir(runbook_id)
    runs: list[DrillRun] = []
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            run = DrillRun.from_dict(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
        if run.runbook_id != runbook_id or (plan is not None and run.plan != plan):
            continue
        if dry_run is not None and run.dry_run != dry_run:
            continue
        runs.append(run)
    return sorted(runs, key=lambda r: r.started)
