"""`rbconsole validate FILE...` as a CI job or an editor's on-save hook sees it: exit codes and output lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOOD = REPO / "tests" / "data" / "spec_example.toml"
BROKEN = REPO / "tests" / "broken"
LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


def rbconsole(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *map(str, args)], capture_output=True, text=True, timeout=60, cwd=cwd
    )


def assert_no_traceback(out: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in out.stdout + out.stderr
    assert not re.search(r"\w+(Error|Exception):", out.stdout + out.stderr), "an exception leaked out"


def test_a_valid_runbook_exits_0_and_prints_no_problem() -> None:
    out = rbconsole("validate", GOOD)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == f"{GOOD}: ok\n"  # a result: on stdout, where a script reads it
    assert out.stderr == ""


def test_every_bundled_runbook_validates() -> None:
    bundled = sorted((REPO / "runbooks").glob("*.toml"))
    if not bundled:
        return
    out = rbconsole("validate", *bundled)
    assert out.returncode == 0, out.stdout


def test_an_invalid_runbook_exits_1_with_file_line_col_message() -> None:
    path = BROKEN / "undefined_host.toml"
    out = rbconsole("validate", path)
    assert out.returncode == 1
    assert_no_traceback(out)
    (line,) = out.stdout.splitlines()
    match = LINE.match(line)
    assert match, line
    assert match["file"] == str(path)
    assert (match["line"], match["col"]) == ("21", "1")
    assert "host 'app2' is not defined" in match["message"]


def test_several_files_report_each_and_fail_if_any_fails() -> None:
    first, second = BROKEN / "unknown_step_key.toml", BROKEN / "several_problems.toml"
    out = rbconsole("validate", GOOD, first, second)
    assert out.returncode == 1
    ok, *lines = out.stdout.splitlines()
    assert ok == f"{GOOD}: ok"
    assert all(LINE.match(line) for line in lines), lines
    files = [LINE.match(line)["file"] for line in lines]  # type: ignore[index]
    assert files == [str(first)] + [str(second)] * 5
    assert out.stderr == "2 of 3 runbook(s) invalid\n"  # a diagnostic: on stderr


def test_relative_paths_are_reported_as_given() -> None:
    out = rbconsole("validate", "tests/broken/bad_duration.toml")
    assert out.stdout.startswith("tests/broken/bad_duration.toml:13:1: ")


def test_a_wrong_flag_exits_2_with_a_usage_line() -> None:
    for args in (["--no-such-flag"], ["validate", "--no-such-flag", str(GOOD)], ["validate"]):
        out = rbconsole(*args)
        assert out.returncode == 2, args
        assert out.stderr.startswith("usage: rbconsole"), out.stderr
        assert_no_traceback(out)


def test_a_directory_is_reported_not_raised(tmp_path: Path) -> None:
    out = rbconsole("validate", tmp_path)
    assert out.returncode == 1
    assert_no_traceback(out)
    assert re.match(rf"^{re.escape(str(tmp_path))}:1:1: cannot read the file: ", out.stdout)


def test_a_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    out = rbconsole("validate", tmp_path / "nope.toml", GOOD)
    assert out.returncode == 1
    assert_no_traceback(out)
    assert out.stdout.startswith(f"{tmp_path / 'nope.toml'}:1:1: cannot read the file: No such file")
    assert f"{GOOD}: ok" in out.stdout, "the other files are still checked"


def test_a_binary_file_is_reported_not_raised(tmp_path: Path) -> None:
    binary = tmp_path / "tool.toml"
    binary.write_bytes(Path(sys.executable).read_bytes()[:4096])
    nul = tmp_path / "nul.toml"
    nul.write_bytes(b"schema = 1\x00\x00\n")
    out = rbconsole("validate", binary, nul)
    assert out.returncode == 1
    assert_no_traceback(out)
    lines = out.stdout.splitlines()
    assert len(lines) == 2 and all(LINE.match(line) for line in lines), lines
    assert "not valid UTF-8" in lines[0]
    assert lines[1].startswith(f"{nul}:1:11: TOML syntax error")


def test_a_device_that_never_ends_is_capped() -> None:
    out = rbconsole("validate", "/dev/zero")
    assert out.returncode == 1
    assert re.match(r"^/dev/zero:1:1: file is larger than \d+ KiB$", out.stdout.strip())
