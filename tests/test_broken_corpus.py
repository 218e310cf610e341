"""Every runbook in tests/broken/ names, in its first comment lines, exactly what the loader must report.

A header line reads ``# expect: LINE:COL: REGEX`` (or ``# expect: LINE: REGEX`` where a column means
nothing). The loader must report those problems, at those places, and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tui.runbook.loader import MAX_BYTES, load
from tui.runbook.problems import Problem

BROKEN = Path(__file__).parent / "broken"
CORPUS = sorted(BROKEN.glob("*.toml"))
EXPECT = re.compile(rb"^# expect: (\d+)(?::(\d+))?: (.+?)\r?$")


@dataclass(frozen=True)
class Expected:
    line: int
    col: int | None
    gist: str


def expectations(path: Path) -> list[Expected]:
    found = []
    for raw in path.read_bytes().split(b"\n"):
        match = EXPECT.match(raw)
        if not match:
            break
        col = int(match.group(2)) if match.group(2) else None
        found.append(Expected(int(match.group(1)), col, match.group(3).decode()))
    return found


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 35
    assert all(expectations(path) for path in CORPUS), "every broken runbook states what it expects"


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_broken_runbook_reports_exactly_what_it_expects(path: Path) -> None:
    expected = expectations(path)
    loaded = load(path)

    assert not loaded.ok and loaded.runbook is None
    got = [(p.line, p.col) for p in loaded.problems]
    want = [(e.line, e.col if e.col is not None else p.col) for e, p in zip(expected, loaded.problems, strict=False)]
    assert got == want, "\n".join(str(p) for p in loaded.problems)
    for problem, expect in zip(loaded.problems, expected, strict=True):
        assert re.search(expect.gist, problem.message), f"{problem} does not match {expect.gist!r}"
        _assert_well_formed(problem, path)
        _assert_points_at_the_culprit(problem, path)


def _assert_well_formed(problem: Problem, path: Path) -> None:
    assert problem.file == str(path)
    assert "\n" not in problem.message and "Traceback" not in problem.message
    assert str(problem).startswith(f"{path}:{problem.line}:{problem.col}: ")
    lines = path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    assert problem.line >= 1 and problem.line <= len(lines)
    assert problem.col >= 1 and problem.col <= len(lines[problem.line - 1]) + 1


def _assert_points_at_the_culprit(problem: Problem, path: Path) -> None:
    """The column lands on what the message names: the key, the placeholder, the undefined name."""
    line = path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n").split("\n")[problem.line - 1]
    at = line[problem.col - 1 :]
    if match := re.match(r"unknown key '([^']+)'", problem.message):
        assert re.match(rf"[\"']?{re.escape(match.group(1))}", at), (problem, at)
    elif problem.message.startswith("unknown placeholder"):
        assert at.startswith("{{"), (problem, at)
    elif match := re.match(r"\w+ '([^']+)' is not defined", problem.message):
        assert f'"{match.group(1)}"' in at, (problem, at)


def test_an_empty_file_is_named_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_bytes(b"")
    (problem,) = load(path).problems
    assert (problem.line, problem.col) == (1, 1)
    assert "empty" in problem.message


def test_a_blank_file_is_empty_too(tmp_path: Path) -> None:
    path = tmp_path / "blank.toml"
    path.write_text("\n   \n\t\n")
    (problem,) = load(path).problems
    assert "empty" in problem.message


def test_an_oversize_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    filler = "# " + "x" * 1000 + "\n"
    path.write_text("schema = 1\n" + filler * (MAX_BYTES // len(filler) + 2))
    (problem,) = load(path).problems
    assert (problem.line, problem.col) == (1, 1)
    assert re.search(r"larger than \d+ KiB", problem.message)


def test_a_file_exactly_at_the_cap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    body = (BROKEN / "unknown_top_level_key.toml").read_bytes()
    path.write_bytes(body + b"#" * (MAX_BYTES - len(body)))
    assert path.stat().st_size == MAX_BYTES
    (problem,) = load(path).problems
    assert "unknown key 'colour'" in problem.message


def test_a_directory_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (problem,) = load(tmp_path).problems
    assert problem.file == str(tmp_path) and "cannot read" in problem.message


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (problem,) = load(tmp_path / "nope.toml").problems
    assert "cannot read" in problem.message and "No such file" in problem.message


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (Path(__file__).parent / "data" / "spec_example.toml").read_bytes())
    assert load(path).ok
