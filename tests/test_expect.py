"""Expectations (expect_json / expect_value / expect_rows) and capture specs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tui.executors.capture import CaptureError, capture_values, last_line
from tui.executors.expect import MISSING, check_paths, compare, lookup, parse_comparison

DOC = {
    "data": {"status": "ok", "id": "exec-42", "error_rate": 0.004, "replicas": 3, "tags": ["a", "b"]},
    "items": [{"state": "up"}, {"state": "down"}],
    "a.b": 1,
    "ok": True,
    "none": None,
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("data.status", "ok"),
        ("data.tags.1", "b"),
        ("items.-1.state", "down"),
        ("a.b", 1),
        ("ok", True),
        ("none", None),
        ("data", DOC["data"]),
    ],
)
def test_lookup_finds(path: str, value: object) -> None:
    assert lookup(DOC, path) == value


@pytest.mark.parametrize("path", ["nope", "data.nope", "data.tags.2", "items.x", "data.status.deeper", "ok.x"])
def test_lookup_misses(path: str) -> None:
    assert lookup(DOC, path) is MISSING


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("ok", "ok"),
        (3, 3),
        (3, "3"),
        ("3", 3),
        (3, 3.0),
        (Decimal("0.50"), 0.5),
        (Decimal("0.50"), "0.5"),
        (True, True),
        (True, "true"),
        (None, "null"),
        (["a"], ["a"]),
        ({"x": 1}, {"x": 1}),
        ("<html>", "<html>"),  # no space after the operator: a literal
        ("!important", "!important"),
        (0.004, "< 0.01"),
        (0.004, "<0.01"),
        ("0.004", "< 0.01"),
        (3, ">= 3"),
        (4, "> 3"),
        (3, "<= 3"),
        (-1, "< 0"),
        (1e-5, "< 1e-4"),
        ("up", "!= down"),
        (2, "!= 3"),
        ("2.0", "== 2"),
        ("v1.2.3", "~ ^v1\\."),
        (1200, "~ ^1\\d{3}$"),
        ("ok", "~ok"),
    ],
)
def test_passes(actual: object, expected: object) -> None:
    assert compare(actual, expected) is None


@pytest.mark.parametrize(
    ("actual", "expected", "reason"),
    [
        ("ok", "down", "'ok', expected 'down'"),
        ("1.10", "1.1", "'1.10', expected '1.1'"),  # two strings are text: versions are not numbers
        (True, 1, "true, expected 1"),
        (0.02, "< 0.01", "0.02, expected < 0.01"),
        (2, ">= 3", "2, expected >= 3"),
        ("down", "!= down", "'down', expected != down"),
        ("v2.0.0", "~ ^v1\\.", "'v2.0.0' does not match /^v1\\./"),
        ("n/a", "< 1", "'n/a' is not a number (expected < 1)"),
        (None, "> 0", "null is not a number (expected > 0)"),
        (1, "< soon", "cannot compare with < 'soon': not a number"),
        ("x", "~ (", "bad regex '(' in expectation: missing ), unterminated subpattern at position 0"),
        (MISSING, "ok", "missing (expected 'ok')"),
        (True, "> 0", "true is not a number (expected > 0)"),
    ],
)
def test_fails_with_a_reason(actual: object, expected: object, reason: str) -> None:
    assert compare(actual, expected) == reason


def test_parse_comparison() -> None:
    assert parse_comparison(">=  3 ") == (">=", "3")
    assert parse_comparison("~ ^v1\\.") == ("~", "^v1\\.")
    assert parse_comparison("<0.5") == ("<", "0.5")
    assert parse_comparison("ok") is None
    assert parse_comparison("<html>") is None
    assert parse_comparison(3) is None


def test_check_paths_reports_every_failure() -> None:
    failures = check_paths(
        DOC, {"data.status": "ok", "data.error_rate": "< 0.001", "data.gone": 1, "items.1.state": "up"}
    )
    assert failures == [
        "data.error_rate: 0.004, expected < 0.001",
        "data.gone: missing (expected 1)",
        "items.1.state: 'down', expected 'up'",
    ]
    assert check_paths(DOC, {"data.replicas": ">= 3", "ok": True}) == []


def test_long_values_are_clipped_in_reasons() -> None:
    reason = compare("x" * 500, "y")
    assert reason is not None and len(reason) < 120 and reason.startswith("'xxx")


# --- capture ---------------------------------------------------------------------------------


def test_stdout_is_the_last_non_empty_line() -> None:
    assert capture_values({"b": "stdout"}, "first\n/backups/db-2026.sql.gz  \n\n  \n") == {
        "b": "/backups/db-2026.sql.gz"
    }
    assert last_line("") == ""
    assert capture_values({"e": "stderr"}, "out\n", stderr="warn\nlast err\n") == {"e": "last err"}


def test_json_paths_from_text_or_a_parsed_document() -> None:
    text = '{"data": {"id": "exec-7", "n": 3, "ok": true, "obj": {"k": [1]}}}'
    got = capture_values({"id": "json:data.id", "n": "json:data.n", "ok": "json:data.ok", "o": "json:data.obj"}, text)
    assert got == {"id": "exec-7", "n": "3", "ok": "true", "o": '{"k": [1]}'}
    assert capture_values({"id": "json:data.id"}, "not json", {"data": {"id": 5}}) == {"id": "5"}


def test_regex_first_group_or_whole_match() -> None:
    text = "copied\nrows=1234 in 5s\nrows=9\n"
    assert capture_values({"n": "regex:rows=(\\d+)", "w": "regex:\\d+s"}, text) == {"n": "1234", "w": "5s"}
    assert capture_values({"line": "regex:^rows=(.*)$"}, text) == {"line": "1234 in 5s"}


@pytest.mark.parametrize(
    ("spec", "text", "message"),
    [
        ({"b": "stdout"}, "\n  \n", "capture 'b': stdout has no non-empty line"),
        ({"id": "json:data.id"}, "<html>", "capture 'id': output is not JSON (Expecting value)"),
        ({"id": "json:data.id"}, '{"data": {}}', "capture 'id': no value at 'data.id' in the JSON"),
        ({"id": "json:data.id"}, '{"data": {"id": null}}', "capture 'id': no value at 'data.id' in the JSON"),
        ({"n": "regex:rows=(\\d+)"}, "nothing", "capture 'n': /rows=(\\d+)/ does not match the output"),
        ({"n": "regex:a|(b)"}, "a", "capture 'n': /a|(b)/ matched but its group is empty"),
        ({"n": "regex:("}, "x", "capture 'n': bad regex '(': missing ), unterminated subpattern at position 0"),
        ({"n": "xml:/a"}, "x", "capture 'n': unknown spec 'xml:/a' (stdout, stderr, json:PATH, regex:RE)"),
    ],
)
def test_capture_errors_name_the_value(spec: dict[str, str], text: str, message: str) -> None:
    with pytest.raises(CaptureError) as caught:
        capture_values(spec, text)
    assert str(caught.value) == message
