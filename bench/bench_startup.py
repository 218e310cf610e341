"""Start-up: time to the first painted screen of ``rbconsole open runbooks/demo.toml`` in a real
pseudo-terminal (until the runbook's title is on screen), beside a trivial Textual app timed
the same way; ``rbconsole --version``, beside a bare ``python -c pass``; and the top
``python -X importtime`` offenders of the console's start-up imports.

Goals: first paint < 0.6 s, --version < 0.15 s.

    python bench/bench_startup.py [--runs 5] [--runbook runbooks/demo.toml]
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOAL_PAINT = 0.6
GOAL_VERSION = 0.15
TRIVIAL_APP = """
from textual.app import App
from textual.widgets import Static
class Trivial(App):
    def compose(self):
        yield Static("trivial app painted")
Trivial().run()
"""


def first_paint(argv: list[str], marker: bytes, env: dict[str, str], timeout: float = 10.0) -> float:
    """Seconds from spawn until ``marker`` appears in what the program writes to its terminal."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the program, on the pty
        os.environ.update(env)
        os.execvp(argv[0], argv)
    started = time.perf_counter()
    seen = b""
    try:
        os.set_blocking(fd, False)
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
                if marker in seen.replace(b"\x1b", b""):
                    return time.perf_counter() - started
            seen = seen[-65536:]
        raise RuntimeError(f"{marker!r} never painted within {timeout} s")
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def importtime_offenders(env: dict[str, str], top: int = 12) -> list[tuple[int, str]]:
    code = "import tui.cli, tui.app, screens.overview, tui.runbook.loader"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative_us, name = line.split(":", 1)[1].split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        if depth <= 1:  # deeper imports are inside these figures already
            rows.append((int(cumulative_us), "  " * depth + name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--runbook", default=str(REPO / "runbooks" / "demo.toml"))
    args = parser.parse_args()
    rbconsole = shutil.which("rbconsole") or "rbconsole"
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, RBCONSOLE_HOME=home, TERM="xterm-256color", COLUMNS="120", LINES="40")
        from tui.runbook.loader import load_or_raise

        title = load_or_raise(args.runbook).title.encode()[:20]
        paint = [first_paint([rbconsole, "open", args.runbook], title, env) for _ in range(args.runs)]
        trivial = [
            first_paint([sys.executable, "-c", TRIVIAL_APP], b"trivial app painted", env) for _ in range(args.runs)
        ]
        version = [timed([rbconsole, "--version"], env) for _ in range(args.runs)]
        bare = [timed([sys.executable, "-c", "pass"], env) for _ in range(args.runs)]
        offenders = importtime_offenders(env)
    p, t, v, b = (statistics.median(x) for x in (paint, trivial, version, bare))
    print(f"median of {args.runs} runs")
    print(f"first paint, rbconsole open {Path(args.runbook).name}: {p:.3f} s   (goal < {GOAL_PAINT} s)")
    print(f"baseline trivial Textual app first paint:   {t:.3f} s   ratio {p / t:.2f}x")
    print(f"rbconsole --version:                        {v:.3f} s   (goal < {GOAL_VERSION} s)")
    print(f"baseline python -c pass:                    {b:.3f} s   ratio {v / b:.2f}x")
    print("top imports of the console start-up (cumulative):")
    for us, name in offenders:
        print(f"  {us / 1000:8.1f} ms  {name}")
    ok = p < GOAL_PAINT and v < GOAL_VERSION
    print("goal met" if ok else "goal NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
