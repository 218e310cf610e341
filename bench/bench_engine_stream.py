"""Streaming a flood of output through the engine: ``seq 1 N`` as a local step, with a secret
to redact, the output file written and fsynced, and a subscriber counting every line (what a
screen or the headless printer gets), beside ``seq 1 N | cat > /dev/null`` (the same bytes
through a pipe into a reader that does nothing with them).

A second line runs the same step through ``rbconsole run`` with its stdout piped into
``cat > /dev/null``: the headless printer adds a ``[local] `` prefix to every line. Its figure
is the step's journaled duration (process start-up is not streaming).

    python bench/bench_engine_stream.py [--lines 10000000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.flood import TOKEN, TOKEN_ENV, flood_runbook, through_engine

GOAL_RATIO = 1.0
GOAL_RSS_MB = 150


async def engine_rate(home: Path, lines: int) -> tuple[float, int]:
    path = home / "rb.toml"
    path.write_text(flood_runbook(lines))
    return await through_engine(path)


def through_run_command(home: Path, lines: int) -> float:
    """The flood step's duration in ``rbconsole run ... | cat > /dev/null``, from its journal."""
    from tui.engine.journal import JOURNAL_NAME, read_events

    path = home / "rb.toml"
    path.write_text(flood_runbook(lines))
    command = f"{shlex.quote(sys.executable)} -m tui run {shlex.quote(str(path))} --plan A | cat > /dev/null"
    subprocess.run(command, shell=True, check=True, env={**os.environ, "RBCONSOLE_HOME": str(home / "run")})
    (journal,) = (home / "run" / "sessions").glob(f"*/{JOURNAL_NAME}")
    (step,) = (e for e in read_events(journal) if e.type == "step_finished")
    assert step.data["status"] == "ok", step.data
    return float(step.data["duration"])


def baseline(lines: int) -> float:
    start = time.perf_counter()
    subprocess.run(f"seq 1 {lines} | cat > /dev/null", shell=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000_000)
    args = parser.parse_args()
    os.environ[TOKEN_ENV] = TOKEN
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RBCONSOLE_HOME"] = tmp
        ours, seen = asyncio.run(engine_rate(Path(tmp), args.lines))
        size = sum(f.stat().st_size for f in Path(tmp).rglob("*.log"))
        printed = through_run_command(Path(tmp), args.lines)
    assert seen == args.lines, (seen, args.lines)
    base = baseline(args.lines)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate, base_rate = args.lines / ours, args.lines / base
    print(
        f"engine (redact, output file, subscriber): {rate:14,.0f} lines/s  ({ours:.2f}s, {size / 1e6:.0f} MB on disk)"
    )
    print(f"baseline seq | cat > /dev/null:          {base_rate:14,.0f} lines/s  ratio {rate / base_rate:.2f}x")
    printed_rate = args.lines / printed
    print(
        f"rbconsole run | cat (printer, prefixes):  {printed_rate:14,.0f} lines/s  ({printed:.2f}s)  "
        f"ratio {printed_rate / base_rate:.2f}x"
    )
    print(f"peak RSS: {rss:.0f} MB (goal < {GOAL_RSS_MB} MB)")


if __name__ == "__main__":
    main()
