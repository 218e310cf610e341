"""Streaming throughput over SSH: ``seq 1 N`` through rbconsole vs plain OpenSSH, in one run.

Starts a private loopback sshd (tests/lab/sshd.py), then measures, on the same host key,
user and command:

  baseline   ssh -F CFG alpha 'seq 1 N' > /dev/null          (OpenSSH client, no processing)
  executor   SshExecutor.run with a sink counting lines        (asyncssh, 64 KiB chunks)

Every row includes connecting (the SSH handshake), as the OpenSSH baseline does.
  engine     Session.run_plan: redaction, journal, output file (the path the console uses)
  cli        rbconsole run FILE --plan A --yes > /dev/null    (engine + the [host] printer)

and prints lines/s with the ratio to the baseline (goal >= 1.0x), plus peak RSS while
streaming (goal < 150 MB). Each figure is the best of --repeat runs, interleaved, so a
neighbour's burst of CPU on a shared 2-core box hits baseline and candidates alike. The CLI
row includes Python start-up and connecting, shown separately as its fixed cost.
Usage: python bench/bench_ssh_stream.py [--lines N] [--repeat R]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.flood import TOKEN, TOKEN_ENV, flood_runbook, through_engine  # noqa: E402
from tests.lab.sshd import SshLab, lab_context, ssh_step  # noqa: E402
from tui.executors.ssh import SshExecutor  # noqa: E402

GOAL_RATIO = 1.0
GOAL_RSS_MB = 150.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def peak_rss() -> Iterator[Callable[[], float]]:
    """Sample this process's RSS every 20 ms while the block runs; yields a getter for the peak."""
    peak = [rss_mb()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield lambda: peak[0]
    finally:
        done.set()
        thread.join()
        peak[0] = max(peak[0], rss_mb())


def runbook_text(lab: SshLab, lines: int) -> str:
    head = f'[ssh]\nconfig = "{lab.config}"\nknown_hosts = "{lab.known_hosts}"\n\n[hosts.alpha]\naddress = "alpha"\n'
    return flood_runbook(lines, where='kind = "ssh"\nhost = "alpha"', head=head)


def bench_openssh(lab: SshLab, lines: int) -> float:
    start = time.perf_counter()
    lab.ssh("alpha", f"seq 1 {lines}", stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


async def bench_executor(lab: SshLab, lines: int) -> tuple[float, int, float]:
    counted = [0]

    def sink(host: str, stream: str, text: str) -> None:
        counted[0] += text.count("\n")

    executor = SshExecutor()
    ctx = lab_context(lab, default_timeout=600)
    with peak_rss() as peak:
        start = time.perf_counter()
        outcome = await executor.run(ssh_step(f"seq 1 {lines}"), ctx, sink)
        elapsed = time.perf_counter() - start
    await executor.close()
    assert outcome.status == "ok", outcome.detail
    return elapsed, counted[0], peak()


async def bench_engine(path: Path) -> tuple[float, int, float]:
    with peak_rss() as peak:
        elapsed, counted = await through_engine(path)
    return elapsed, counted, peak()


def bench_cli(path: Path, home: Path) -> tuple[float, float]:
    """Wall time of a whole ``rbconsole run`` and the peak RSS of any child so far."""
    env = {**os.environ, "RBCONSOLE_HOME": str(home), TOKEN_ENV: TOKEN}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tui", "run", str(path), "--plan", "A", "--yes", "--operator", "bench"],
        stdout=subprocess.DEVNULL,
        env=env,
        check=True,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(after, before) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lines, repeat = args.lines, max(1, args.repeat)
    with tempfile.TemporaryDirectory(prefix="bench-ssh-") as tmp:
        root = Path(tmp)
        lab = SshLab.start(root / "lab", servers=("alpha",))
        try:
            os.environ["RBCONSOLE_HOME"] = str(root / "home")
            os.environ[TOKEN_ENV] = TOKEN
            path = root / "bench.toml"
            path.write_text(runbook_text(lab, lines))
            tiny = root / "tiny.toml"
            tiny.write_text(runbook_text(lab, 1))
            bases, executors, engines, clis = [], [], [], []
            for _ in range(repeat):
                bases.append(bench_openssh(lab, lines))
                executors.append(asyncio.run(bench_executor(lab, lines)))
                engines.append(asyncio.run(bench_engine(path)))
                clis.append(bench_cli(path, root / "cli-home"))
            fixed = min(bench_cli(tiny, root / "cli-home")[0] for _ in range(repeat))
            base = min(bases)
            executor_time, executor_lines, executor_rss = min(executors)
            engine = min(engines)
            cli_time, cli_rss = min(clis)
        finally:
            lab.stop()
    base_rate = lines / base
    print(f"seq 1 {lines} over loopback SSH ({os.cpu_count()} CPUs, best of {repeat}, load {os.getloadavg()[0]:.1f})")
    print(f"  {'OpenSSH ssh > /dev/null (baseline)':44} {base:6.2f} s  {base_rate / 1e6:6.2f} M lines/s   1.00x")

    def row(label: str, elapsed: float, rss: float, counted: int | None = None) -> None:
        rate = lines / elapsed
        check = "" if counted is None or counted == lines else f"  (counted {counted} lines!)"
        goal = "ok" if rate / base_rate >= GOAL_RATIO and rss < GOAL_RSS_MB else "below goal"
        print(
            f"  {label:44} {elapsed:6.2f} s  {rate / 1e6:6.2f} M lines/s  {rate / base_rate:5.2f}x"
            f"   peak RSS {rss:6.1f} MB  [{goal}]{check}"
        )

    row("rbconsole ssh executor (counting sink)", executor_time, executor_rss, executor_lines)
    row("engine: redaction + journal + output file", engine[0], engine[2], engine[1])
    row("rbconsole run --yes > /dev/null (whole CLI)", cli_time, cli_rss)
    row(f"  same, less {fixed:.2f} s start-up + connect", max(cli_time - fixed, 1e-9), cli_rss)
    print(f"  goals: >= {GOAL_RATIO:.1f}x OpenSSH lines/s, peak RSS < {GOAL_RSS_MB:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
