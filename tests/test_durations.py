"""One duration formatter: the record, the drill report, headless output and the screens read a
time the same way; its edges are the times that read wrong most easily."""

from __future__ import annotations

import pytest

from tui.runbook.durations import format_clock, format_duration, parse_duration


@pytest.mark.parametrize(
    ("seconds", "fine", "coarse"),
    [
        (0, "0.0s", "<1s"),
        (0.01, "0.0s", "<1s"),
        (0.314, "0.3s", "<1s"),
        (4.24, "4.2s", "4s"),
        (9.96, "10s", "10s"),  # rounds up past 10 s: whole seconds, not "10.0s"
        (42.4, "42s", "42s"),
        (59.4, "59s", "59s"),
        (59.9, "1m00s", "1m00s"),  # never "60s"
        (185, "3m05s", "3m05s"),
        (3599.6, "1h00m", "1h00m"),  # never "60m00s"
        (3720, "1h02m", "1h02m"),
        (90_000, "25h00m", "25h00m"),
        (-5, "-5.0s", "-5s"),  # a clock stepped back keeps its sign, never passes for a real time
    ],
)
def test_durations_read_short(seconds: float, fine: str, coarse: str) -> None:
    assert format_duration(seconds) == fine
    assert format_duration(seconds, fine=False) == coarse


@pytest.mark.parametrize("seconds", [None, float("nan"), float("inf"), float("-inf")])
def test_a_time_never_measured_says_so(seconds: float | None) -> None:
    assert format_duration(seconds) == "—"
    assert format_duration(seconds, fine=False, missing="") == ""


@pytest.mark.parametrize("seconds", [0.5, 7, 59.9, 61, 185, 3599.6, 3720, 7322])
def test_a_formatted_time_reads_back_close_to_itself(seconds: float) -> None:
    # Whatever the formatter drops (tenths, then seconds past an hour) is under its last unit.
    back = parse_duration(format_duration(seconds).replace("h", "h ").replace("m", "m "))
    unit = 0.05 if seconds < 10 else 0.5 if seconds < 3600 else 30
    assert abs(back - seconds) <= unit


@pytest.mark.parametrize(
    ("seconds", "face"),
    [
        (0, "00:00"),
        (59.9, "00:59"),
        (192, "03:12"),
        (3723, "1:02:03"),
        (-4, "00:00"),
        (36_000, "10:00:00"),
        (float("nan"), "00:00"),
    ],
)
def test_the_stopwatch_face(seconds: float, face: str) -> None:
    assert format_clock(seconds) == face
