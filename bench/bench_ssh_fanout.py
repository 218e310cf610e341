"""Fan-out: ``sleep 1`` on 100 hosts (100 separate SSH connections to a loopback sshd), in one run.

Measures, against the same sshd (tests/lab/sshd.py, MaxStartups 300) and 100 ssh_config aliases:

  rbconsole step 1   SshExecutor, batch = 0: 100 handshakes + the command      (goal <= 3.5 s)
  rbconsole step 2   the same step again on the same executor: connections reused (goal <= 1.3 s)
  xargs -P           printf 'fanNNN' | xargs -P 100 ssh -F CFG {} 'sleep 1'   (baseline)
  ansible ad-hoc     ansible all -f 100 -m command -a 'sleep 1'  (when ``ansible`` is on PATH or --ansible)

The ideal is 1 s; on a small box the handshakes are CPU-bound (both ends on the same cores).
Each figure is the best of --repeat rounds (rbconsole and xargs interleaved), so a neighbour's
burst of CPU on a shared box hits both alike; ansible runs once (it takes minutes).
Usage: python bench/bench_ssh_fanout.py [--hosts N] [--repeat R] [--ansible PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.lab.sshd import SshLab, lab_context, ssh_step  # noqa: E402
from tui.executors.ssh import SshExecutor  # noqa: E402

GOAL_FIRST, GOAL_SECOND = 3.5, 1.3


async def bench_rbconsole(lab: SshLab, names: list[str]) -> tuple[float, float, int]:
    ctx = lab_context(lab, groups={"fleet": names}, connect_timeout=60)
    executor = SshExecutor()
    step = ssh_step("sleep 1", group="fleet")
    sink = lambda host, stream, text: None  # noqa: E731
    try:
        start = time.perf_counter()
        first = await executor.run(step, ctx, sink)
        first_time = time.perf_counter() - start
        start = time.perf_counter()
        second = await executor.run(step, ctx, sink)
        second_time = time.perf_counter() - start
        opened = executor.connections_opened
    finally:
        await executor.close()
    for outcome in (first, second):
        assert outcome.status == "ok", f"{outcome.summary}: {outcome.detail}"
    return first_time, second_time, opened


def bench_xargs(lab: SshLab, names: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["xargs", "-P", str(len(names)), "-I{}", "ssh", "-F", str(lab.config), "{}", "sleep 1"],
        input="\n".join(names) + "\n",
        text=True,
        check=True,
    )
    return time.perf_counter() - start


def bench_ansible(ansible: str, lab: SshLab, names: list[str], root: Path) -> float:
    inventory = root / "inventory.ini"
    inventory.write_text(
        "[fleet]\n"
        + "".join(f"{name}\n" for name in names)
        + f"[fleet:vars]\nansible_ssh_common_args='-F {lab.config}'\nansible_python_interpreter={sys.executable}\n"
    )
    env = {**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_LOCAL_TEMP": str(root / "ansible-tmp")}
    start = time.perf_counter()
    subprocess.run(
        [ansible, "fleet", "-i", str(inventory), "-f", str(len(names)), "-m", "command", "-a", "sleep 1"],
        stdout=subprocess.DEVNULL,
        env=env,
        check=True,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--ansible", default=shutil.which("ansible"), help="path to the ansible command")
    args = parser.parse_args()
    names = [f"fan{n:03d}" for n in range(args.hosts)]
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        root = Path(tmp)
        lab = SshLab.start(root / "lab", servers=("alpha",))
        try:
            for name in names:
                lab.add_alias(name, "alpha")
            lab.write_config()
            rounds, xargs_rounds = [], []
            for _ in range(max(1, args.repeat)):
                rounds.append(asyncio.run(bench_rbconsole(lab, names)))
                xargs_rounds.append(bench_xargs(lab, names))
            first = min(r[0] for r in rounds)
            second = min(r[1] for r in rounds)
            opened = rounds[0][2]
            xargs = min(xargs_rounds)
            ansible = bench_ansible(args.ansible, lab, names, root) if args.ansible else None
        finally:
            lab.stop()
    print(
        f"sleep 1 on {len(names)} hosts, separate connections to loopback sshd "
        f"({os.cpu_count()} CPUs, best of {max(1, args.repeat)}, load {os.getloadavg()[0]:.1f})"
    )
    print(f"  {'xargs -P + OpenSSH ssh (baseline)':40} {xargs:6.2f} s   1.00x")

    def row(label: str, seconds: float, goal: float | None = None) -> None:
        verdict = "" if goal is None else f"   goal <= {goal} s [{'ok' if seconds <= goal else 'missed'}]"
        print(f"  {label:40} {seconds:6.2f} s   {xargs / seconds:4.2f}x faster{verdict}")

    row("rbconsole step 1 (connect + run)", first, GOAL_FIRST)
    row("rbconsole step 2 (connections reused)", second, GOAL_SECOND)
    print(f"  connections opened by one rbconsole executor over both steps: {opened}")
    if ansible is None:
        print("  ansible: not measured (no `ansible` on PATH; pip install ansible-core, or pass --ansible PATH)")
    else:
        row("ansible ad-hoc -f N (command module)", ansible)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
