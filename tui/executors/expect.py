"""Expectations on values: ``expect_json``, ``expect_value`` and ``expect_rows`` (SPEC "Semantics").

A plain expected value must equal the actual one. A string that starts with a comparison
compares instead: ``"< 0.01"``, ``">= 3"``, ``"== 2"``, ``"!= down"``, ``"~ ^v1\\."`` (a regex
searched in the value). Numbers compare as numbers wherever both sides read as one, so
``"0.5"`` from a JSON string and ``0.5`` from SQL meet. A failure is a short readable reason,
never an exception, because it ends up on an operator's screen.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

MISSING = object()

# The operator must be followed by a space unless a number follows directly ("<0.01"), so a
# literal such as "<html>" or "!important" is still compared for equality; "~" (a regex)
# needs no space.
_COMPARISON = re.compile(r"^\s*(?:(<=|>=|==|!=|<|>)(?:\s+(.*)|([-+]?\d.*))|(~)\s*(.+))$", re.DOTALL)
_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


def lookup(document: object, path: str) -> object:
    """The value at dotted ``path`` (``data.items.0.id``), or ``MISSING``.

    A key that itself contains dots is found too (``{"a.b": 1}`` at ``a.b``), because JSON
    from metrics endpoints often has such keys.
    """
    if isinstance(document, Mapping) and path in document:
        return document[path]
    head, dot, rest = path.partition(".")
    if isinstance(document, Mapping):
        if head not in document:
            return MISSING
        child = document[head]
    elif isinstance(document, list) and re.fullmatch(r"-?\d+", head):
        index = int(head)
        if not -len(document) <= index < len(document):
            return MISSING
        child = document[index]
    else:
        return MISSING
    return lookup(child, rest) if dot else child


def as_number(value: object) -> float | None:
    """``value`` as a number when it is one or reads as one; booleans are not numbers."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value)
    return None


def show(value: object) -> str:
    """A value as an operator reads it in a failure reason (JSON spelling, bounded)."""
    if value is MISSING:
        return "missing"
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _as_text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _equal(actual: object, expected: object) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        if isinstance(expected, bool) and isinstance(actual, bool):
            return actual == expected
        return _as_text(actual) == _as_text(expected)
    left, right = as_number(actual), as_number(expected)
    # Two strings are compared as text ("1.10" is not the version "1.1"); a real number on
    # either side makes it a numeric comparison.
    both_text = isinstance(actual, str) and isinstance(expected, str)
    if left is not None and right is not None and not both_text:
        return math.isclose(left, right, rel_tol=1e-12, abs_tol=0.0) or left == right
    if isinstance(expected, list | dict) or isinstance(actual, list | dict):
        return actual == expected
    return _as_text(actual) == _as_text(expected)


def parse_comparison(expected: object) -> tuple[str, str] | None:
    """``(operator, operand)`` when ``expected`` is a comparison string, else None."""
    if not isinstance(expected, str):
        return None
    match = _COMPARISON.match(expected)
    if match is None:
        return None
    if match.group(4):
        return "~", match.group(5).strip()
    operand = match.group(2) if match.group(2) is not None else match.group(3)
    return match.group(1), operand.strip()


def compare(actual: object, expected: object) -> str | None:
    """None when ``actual`` meets ``expected``; otherwise why not (without the path)."""
    if actual is MISSING:
        return f"missing (expected {show(expected)})"
    comparison = parse_comparison(expected)
    if comparison is None:
        if _equal(actual, expected):
            return None
        return f"{show(actual)}, expected {show(expected)}"
    op, operand = comparison
    if op == "~":
        try:
            pattern = re.compile(operand)
        except re.error as exc:
            return f"bad regex {operand!r} in expectation: {exc}"
        if pattern.search(_as_text(actual)):
            return None
        return f"{show(actual)} does not match /{operand}/"
    if op in ("==", "!="):
        same = _equal(actual, operand) if as_number(operand) is None else _equal(actual, float(operand))
        if same == (op == "=="):
            return None
        return f"{show(actual)}, expected {op} {operand}"
    left, right = as_number(actual), as_number(operand)
    if right is None:
        return f"cannot compare with {op} {operand!r}: not a number"
    if left is None:
        return f"{show(actual)} is not a number (expected {op} {operand})"
    passed = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    return None if passed else f"{show(actual)}, expected {op} {operand}"


def check_paths(document: object, expectations: Mapping[str, Any]) -> list[str]:
    """Each failed ``path = expected`` pair of ``expect_json`` as ``"path: reason"``."""
    failures = []
    for path, expected in expectations.items():
        reason = compare(lookup(document, path), expected)
        if reason is not None:
            failures.append(f"{path}: {reason}")
    return failures
