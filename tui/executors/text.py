"""Text from the outside world (a response body, a database error, a commit message) made
safe to show: it must not drive the operator's terminal."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Control characters (ANSI escapes, bells, carriage returns) shown as ``\\xNN``;
    line breaks and tabs kept."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
