"""The record as ``rbconsole export --format json`` writes it: versioned, with RFC 3339 times.

:func:`tui.record.build.build` gives the record as the Markdown renderer reads it (epoch
seconds and local display stamps); here every time becomes an RFC 3339 string with its UTC
offset (``2026-12-01T22:43:04+08:00``), and ``schema_version`` says which shape a script reads.
``rbconsole schema --record`` prints that shape (:mod:`tui.record.schema`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

SCHEMA_VERSION = 1
# Keys whose values are moments (epoch seconds, or the record's display stamp).
TIME_KEYS = frozenset({"started", "ended", "time", "ts"})
_STAMP = "%Y-%m-%d %H:%M:%S %z"  # tui.record.build.stamp's form
# Values that came from the runbook or the run (params, captured output, ...): a param named "time"
# is not a moment.
USER_DATA = frozenset({"params", "captured", "excerpt", "fields", "sections", "retrospective", "readings"})


def rfc3339(moment: float | str | None) -> str | None:
    """``moment`` (epoch seconds or a display stamp) as RFC 3339 local time with offset; None if none."""
    if moment is None or moment == "":
        return None
    if isinstance(moment, str):
        try:
            return datetime.strptime(moment, _STAMP).isoformat()
        except ValueError:
            return moment  # not a stamp this code wrote: kept as it is
    return datetime.fromtimestamp(moment).astimezone().isoformat(timespec="milliseconds")


def as_json(record: dict[str, Any]) -> dict[str, Any]:
    """The built record, versioned and with RFC 3339 times, ready for ``json.dumps``."""

    def convert(node: Any, key: str | None = None) -> Any:
        if isinstance(node, dict):
            return {k: v if k in USER_DATA else convert(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [convert(v) for v in node]
        if key in TIME_KEYS and not isinstance(node, bool) and isinstance(node, int | float | str):
            return rfc3339(node)
        return node

    converted = convert(record)
    # "final" and "notice" stay first (no reader of a mid-session export mistakes it for the final record).
    return {
        "final": converted.pop("final"),
        "notice": converted.pop("notice"),
        "schema_version": SCHEMA_VERSION,
        **converted,
    }
