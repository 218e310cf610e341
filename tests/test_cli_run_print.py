"""The headless printer: a flood goes out in one binary write per chunk, every line prefixed,
in order with the printer's own lines and with text others wrote to the same stream."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from tui.engine import events as ev
from tui.headless.printer import Printer

FLOOD = """schema = 1
id = "print-flood"
title = "print a flood"
service = "svc"
[plans.A]
title = "flood"
[[plans.A.steps]]
id = "flood"
kind = "local"
run = "seq 1 {lines}; printf 'no newline at the end'"
[[plans.A.steps]]
id = "after"
kind = "local"
run = "echo done-after"
"""


class CountingBytes(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes.append(bytes(data))
        return super().write(data)


def output(host: str, text: str) -> ev.Event:
    return ev.Event(1, 0.0, ev.OUTPUT, {"id": "s", "phase": "step", "attempt": 1, "host": host, "stream": "stdout", "text": text})  # fmt: skip


def test_one_binary_write_per_chunk_with_every_line_prefixed() -> None:
    raw = CountingBytes()
    out = io.TextIOWrapper(io.BufferedWriter(raw, buffer_size=64), encoding="utf-8", write_through=False)
    printer = Printer(out)
    chunks = ["".join(f"{n}\n" for n in range(start, start + 1000)) for start in (0, 1000, 2000)]
    for chunk in chunks:
        printer(output("app-1", chunk))
    assert len(raw.writes) == 3, "one write per chunk, never one per line"
    assert raw.writes[0].startswith(b"[app-1] 0\n[app-1] 1\n")
    lines = raw.getvalue().decode().splitlines()
    assert lines == [f"[app-1] {n}" for n in range(3000)]


def test_text_written_by_others_keeps_its_place_and_cjk_survives() -> None:
    raw = CountingBytes()
    out = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8")
    printer = Printer(out)
    printer(output("主机", "回滚开始\npartial"))
    out.write("a prompt someone else wrote\n")  # terminal_ask and the drill command write text
    printer(output("主机", "下一块\n"))
    assert raw.getvalue().decode().splitlines() == [
        "[主机] 回滚开始",
        "[主机] partial",
        "a prompt someone else wrote",
        "[主机] 下一块",
    ]


def test_a_stream_without_a_binary_layer_gets_the_same_text() -> None:
    out = io.StringIO()
    printer = Printer(out)
    printer(output("db", "one\ntwo\n"))
    printer(output("db", "three"))
    assert out.getvalue() == "[db] one\n[db] two\n[db] three\n"


def test_rbconsole_run_through_a_pipe_keeps_every_line_in_order(rbconsole_home: Path, tmp_path: Path) -> None:
    lines = 300_000
    runbook = tmp_path / "flood.toml"
    runbook.write_text(FLOOD.format(lines=lines), encoding="utf-8")
    captured = tmp_path / "printed.txt"
    with captured.open("wb") as sink:
        reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=sink)  # a pipe, as `| tee log` gives
        assert reader.stdin is not None
        done = subprocess.run(
            [sys.executable, "-m", "tui", "run", str(runbook), "--plan", "A"],
            stdout=reader.stdin, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=120,
            env={**os.environ, "RBCONSOLE_HOME": str(rbconsole_home)},
        )  # fmt: skip
        reader.stdin.close()
        assert reader.wait(30) == 0
    assert done.returncode == 0, done.stderr
    printed = captured.read_text(encoding="utf-8").splitlines()
    start = printed.index("[local] 1")
    assert printed[start - 2].startswith("▶ 1. flood") and printed[start - 1] == "  local $ " + (
        f"seq 1 {lines}; printf 'no newline at the end'"
    )
    assert printed[start : start + lines] == [f"[local] {n}" for n in range(1, lines + 1)]
    assert printed[start + lines] == "[local] no newline at the end"
    assert printed[start + lines + 1].startswith("✓ flood ok")
    assert "[local] done-after" in printed[start + lines + 2 :]
    assert printed[-2].startswith("== result: SUCCESS")


def test_a_reader_that_goes_away_costs_the_output_not_the_rollback(rbconsole_home: Path, tmp_path: Path) -> None:
    runbook = tmp_path / "flood.toml"
    runbook.write_text(FLOOD.format(lines=200_000), encoding="utf-8")
    record = tmp_path / "record.md"
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", str(runbook), "--plan", "A", "--record", str(record)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        env={**os.environ, "RBCONSOLE_HOME": str(rbconsole_home)},
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    first = [process.stdout.readline() for _ in range(3)]  # as `| head -3` does, then it leaves
    process.stdout.close()
    assert process.wait(120) == 0
    assert first[0].startswith(b"session ")
    assert process.stderr.read() == b"", "no BrokenPipeError, no traceback"
    text = record.read_text(encoding="utf-8")
    assert "- [x] ✅ 回滚成功 · success" in text and "| 2 | after | local |" in text
