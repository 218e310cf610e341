"""Capturing values from a step's output for later steps (SPEC "Semantics": ``capture``).

Specs: ``stdout`` (the last non-empty line of standard output), ``stderr`` (the same for
standard error), ``json:data.id`` (a dotted path in a JSON document: the response body, or
standard output read as JSON), ``regex:rows=(\\d+)`` (the first group of the first match, or
the whole match when the pattern has no group). Every executor shares this so a capture
means the same whatever the kind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from tui.executors.expect import MISSING, lookup


class CaptureError(ValueError):
    """A capture found nothing; the message names the captured value and the spec."""


def last_line(text: str) -> str:
    """The last non-empty line (trailing whitespace stripped), or ``""``."""
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.rstrip()
    return ""


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return value
    # Numbers, booleans, objects: their JSON spelling, which is what a later step expects.
    return json.dumps(value, ensure_ascii=False)


def capture_values(
    spec: Mapping[str, str],
    text: str,
    json_value: object | None = None,
    *,
    stderr: str = "",
) -> dict[str, str]:
    """The values ``spec`` names, read from ``text`` (stdout or a response body).

    ``json_value`` is the already-parsed document when the caller has one (an HTTP JSON
    response); when None, ``text`` is parsed on the first ``json:`` spec. Raises CaptureError.
    """
    values: dict[str, str] = {}
    document = json_value
    for name, how in spec.items():
        if how in ("stdout", "stderr"):
            found = last_line(text if how == "stdout" else stderr)
            if not found:
                raise CaptureError(f"capture {name!r}: {how} has no non-empty line")
            values[name] = found
        elif how.startswith("json:"):
            if document is None:
                try:
                    document = json.loads(text)
                except ValueError as exc:
                    raise CaptureError(f"capture {name!r}: output is not JSON ({exc.msg})") from None
            found = lookup(document, how[5:])
            if found is MISSING or found is None:
                raise CaptureError(f"capture {name!r}: no value at {how[5:]!r} in the JSON")
            values[name] = _scalar(found)
        elif how.startswith("regex:"):
            try:
                pattern = re.compile(how[6:], re.MULTILINE)
            except re.error as exc:
                raise CaptureError(f"capture {name!r}: bad regex {how[6:]!r}: {exc}") from None
            match = pattern.search(text)
            if match is None:
                raise CaptureError(f"capture {name!r}: /{how[6:]}/ does not match the output")
            group = match.group(1) if pattern.groups else match.group(0)
            if group is None:
                raise CaptureError(f"capture {name!r}: /{how[6:]}/ matched but its group is empty")
            values[name] = group
        else:
            raise CaptureError(f"capture {name!r}: unknown spec {how!r} (stdout, stderr, json:PATH, regex:RE)")
    return values
