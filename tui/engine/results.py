"""What a session ended as (or where it stands), and what mode it ran in, in words.

One home for these facts: the headless printer, ``rbconsole sessions``, the picker and the
record all read them from here, so a dry run is "DRY RUN" everywhere and never "success".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# The command line's exit statuses: 0 only for success (or a dry run that walked the plan),
# 1 for a session that did not succeed or a failure on the way, 2 for bad input (usage).
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2

# Journaled in ``session_ended``: how the session ended.
RESULTS: Final = ("success", "partial", "failed", "aborted", "dry_run")

LABELS: Final = {
    "success": "success",
    "partial": "partial",
    "failed": "failed",
    "aborted": "aborted",
    "dry_run": "dry run",
    # Never journaled: a session that did not end is "running" while its process holds the lock,
    # and "interrupted" once it does not (the process died, or the console quit without ending it).
    "running": "running",
    "interrupted": "interrupted",
}


def label(result: str) -> str:
    """The word for a result or open state (``dry_run`` -> "dry run")."""
    return LABELS.get(result, result)


def is_dry_run(meta: Mapping[str, Any]) -> bool:
    return bool(meta.get("dry_run"))


def mode_label(meta: Mapping[str, Any]) -> str:
    """LIVE, DRILL, DRY RUN or DRILL DRY RUN, from a ``session_started`` payload."""
    drill = meta.get("mode") == "drill"
    if is_dry_run(meta):
        return "DRILL DRY RUN" if drill else "DRY RUN"
    return "DRILL" if drill else "LIVE"


def exit_status(result: str) -> int:
    """0 for success, and for a dry run that walked the plan (CI relies on it, without the
    production secrets: what the walk found a live run would stop on is named in its result); else 1."""
    return EXIT_OK if result in ("success", "dry_run") else EXIT_FAILED
