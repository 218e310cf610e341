"""Durations as runbook authors write them (``30``, ``"90s"``, ``"5m"``, ``"1h30m"``), and the one
way the record, the drill report, headless output and the screens write them back."""

from __future__ import annotations

import math
import re

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> float:
    """Seconds in ``value``; raises ValueError with a readable reason."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like '90s', '5m', '1h'")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("a duration must be a finite number of seconds")
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("a duration is a number of seconds or a string like '90s', '5m', '1h'")
    text = value.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return parse_duration(float(text))
    pos = 0
    total = 0.0
    for match in _PART.finditer(text):
        if text[pos : match.start()].strip():
            break
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        raise ValueError(f"cannot read {value!r} as a duration (use e.g. '90s', '5m', '1h30m')")
    return parse_duration(total)


def format_duration(seconds: float | None, *, fine: bool = True, missing: str = "—") -> str:
    """How long something took, short: ``0.3s``, ``4.2s``, ``42s``, ``3m05s``, ``1h02m``.

    ``fine`` keeps tenths under ten seconds (the record, reports, headless output); without it
    (a screen's narrow time column) a sub-second time reads ``<1s``. ``None`` (never measured),
    NaN or infinity (a journal can carry them) read ``missing``; a negative time (a clock stepped
    back) keeps its sign rather than pass for a real one."""
    if seconds is None or not math.isfinite(seconds):
        return missing
    if seconds < 0:
        return "-" + format_duration(-seconds, fine=fine)
    if fine and round(seconds, 1) < 10:
        return f"{seconds:.1f}s"
    if not fine and seconds < 1:
        return "<1s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_clock(seconds: float) -> str:
    """A stopwatch face: ``03:12``, ``1:02:03`` (whole seconds; a negative or unreadable time reads 00:00)."""
    whole = max(0, int(seconds)) if math.isfinite(seconds) else 0
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
