"""How many events a session journals per second (JSON line, write, fsync each), beside the
baselines: the same lines appended with one fsync each by hand, and appended with no fsync.

The engine's promise is "on disk before anyone sees it", so the fsync per event is the cost;
the figure that matters is the ratio to the raw fsync baseline (goal: >= 0.8x).

    python bench/bench_journal.py [--events 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.engine.events import Event
from tui.engine.journal import Journal

GOAL_RATIO = 0.8


def sample(seq: int) -> Event:
    data = {"id": f"step-{seq}", "phase": "step", "attempt": 1, "status": "ok", "detail": "", "duration": 0.5}
    return Event(seq, time.time(), "step_finished", data | {"excerpt": {"app1": "line\n" * 20}})


def engine(directory: Path, count: int) -> float:
    journal = Journal.create(directory)
    start = time.perf_counter()
    for seq in range(1, count + 1):
        journal.append(sample(seq))
    took = time.perf_counter() - start
    journal.close()
    return took


def raw(path: Path, count: int, *, sync: bool) -> float:
    lines = [(sample(seq).to_json() + "\n").encode() for seq in range(1, count + 1)]
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    start = time.perf_counter()
    for line in lines:
        os.write(fd, line)
        if sync:
            os.fsync(fd)
    took = time.perf_counter() - start
    os.close(fd)
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    # Rounds interleave the three so a disk busy with someone else's writes hits all of them.
    best = {"ours": float("inf"), "fsynced": float("inf"), "plain": float("inf")}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
            root = Path(tmp)
            (root / "a").mkdir()
            best["ours"] = min(best["ours"], engine(root / "a", args.events))
            best["fsynced"] = min(best["fsynced"], raw(root / "b.jsonl", args.events, sync=True))
            best["plain"] = min(best["plain"], raw(root / "c.jsonl", args.events, sync=False))
    rate, base, nosync = (args.events / best[k] for k in ("ours", "fsynced", "plain"))
    print(f"best of {args.rounds} rounds of {args.events} events")
    print(f"journal (engine, fsync each):  {rate:12,.0f} events/s")
    print(f"baseline raw append + fsync:   {base:12,.0f} events/s   ratio {rate / base:.2f}x (goal >= {GOAL_RATIO}x)")
    print(
        f"baseline raw append, no fsync: {nosync:12,.0f} events/s   ratio {rate / nosync:.3f}x (the price of durability)"
    )


if __name__ == "__main__":
    main()
