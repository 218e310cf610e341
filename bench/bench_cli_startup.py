"""How long the command line takes to start: ``--version``, ``validate`` of a bundled runbook, ``sessions``.

Every command now reads the user's config file (pydantic-settings) before it runs; this shows
what that costs against a baseline checkout. Each figure is the median of ``--runs`` starts of
``python -m tui ...`` in that checkout's folder (``-m`` imports the ``tui`` found there first).

    python bench/bench_cli_startup.py --baseline /path/to/a/checkout/of/main [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
COMMANDS: list[list[str]] = [["--version"], ["validate", "runbooks/demo.toml"], ["sessions"]]


def median_seconds(checkout: Path, argv: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tui", *argv], cwd=checkout, env=env, capture_output=True, timeout=60, check=False
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout to compare with (e.g. main)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "RBCONSOLE_HOME": home, "RBCONSOLE_CONFIG": os.path.join(home, "config.toml")}
        Path(env["RBCONSOLE_CONFIG"]).write_text('operator = "bench"\n', encoding="utf-8")
        print(f"{'command':36} {'this (s)':>9} {'baseline (s)':>12} {'ratio':>6}")
        for argv in COMMANDS:
            # Alternate, so a machine busy with something else weighs on both alike.
            this = median_seconds(HERE, argv, args.runs, env)
            base = median_seconds(args.baseline, argv, args.runs, env)
            print(f"{' '.join(argv):36} {this:9.3f} {base:12.3f} {this / base:6.2f}")


if __name__ == "__main__":
    main()
