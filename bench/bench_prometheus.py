"""A prometheus check's latency against the lab Prometheus, beside `curl` of the same query.

Starts the lab Prometheus (tests/lab/prometheus.py: Debian's prometheus, 1 s scrape of the lab
exporter), then times, best and median of N:

- the executor: one instant check (``lab_cpu_usage_ratio < 0.7``, two series) and one held
  ``for`` 30 s (a range query), run in-process on a warm client as a session runs them;
- the baseline: ``curl -s`` of the same /api/v1/query (and /api/v1/query_range) URL, a fresh
  process each time, which is what an operator would type instead.

Prints each figure beside its baseline as a ratio (below 1 = faster than curl).

    python bench/bench_prometheus.py [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.lab import prometheus as lab
from tui.executors.base import ExecContext
from tui.executors.prometheus import PrometheusExecutor
from tui.runbook.model import PrometheusAction, Runbook, SshSettings
from tui.runbook.placeholders import Value

QUERY = "lab_cpu_usage_ratio"
RUNBOOK = Runbook.model_validate(
    {
        "schema": 1,
        "id": "b",
        "title": "b",
        "service": "b",
        "plans": {"A": {"title": "A", "steps": [{"id": "m", "kind": "manual"}]}},
    }
)


def _sink(host: str, stream: str, text: str) -> None:
    """Output is not what is measured."""


async def _executor_times(url: str, runs: int, window: bool) -> list[float]:
    fields = {"id": "cpu", "kind": "prometheus", "url": "{{ prometheus }}", "query": QUERY, "expect": "< 0.7"}
    if window:
        fields |= {"for": "30s", "step": "1s"}
    action = PrometheusAction.model_validate(fields)
    ctx = ExecContext(RUNBOOK, {"prometheus": Value(url, trusted=True)}, {}, SshSettings())
    executor = PrometheusExecutor()
    times = []
    try:
        await executor.run(action, ctx, _sink)  # warm: the session's client is open after its first check
        for _ in range(runs):
            started = time.perf_counter()
            outcome = await executor.run(action, ctx, _sink)
            times.append(time.perf_counter() - started)
            assert outcome.status == "ok", outcome.detail
    finally:
        await executor.close()
    return times


def _curl_times(url: str, runs: int, window: bool) -> list[float]:
    if window:
        end = time.time()
        params = {"query": QUERY, "start": f"{end - 30:.3f}", "end": f"{end:.3f}", "step": "1s"}
        target = f"{url}/api/v1/query_range?" + urllib.parse.urlencode(params)
    else:
        target = f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": QUERY})
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(["curl", "-sf", target], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if shutil.which("curl") is None or shutil.which("prometheus") is None:
        sys.exit("needs curl and prometheus on PATH (bash .ci/run installs prometheus)")
    server = lab._prometheus_server._get_wrapped_function()()  # the lab fixture, outside pytest
    prom = next(server)
    try:
        time.sleep(31)  # a full 30 s window of samples for the range query
        for window, name in ((False, "instant check"), (True, "check held for 30s (range query)")):
            mine = asyncio.run(_executor_times(prom.url, args.runs, window))
            curl = _curl_times(prom.url, args.runs, window)
            best, median = min(mine) * 1000, statistics.median(mine) * 1000
            base_best, base_median = min(curl) * 1000, statistics.median(curl) * 1000
            print(
                f"{name:34} rbconsole best {best:6.2f} ms median {median:6.2f} ms | "
                f"curl best {base_best:6.2f} ms median {base_median:6.2f} ms | "
                f"ratio (median) {median / base_median:.2f}"
            )
    finally:
        for _ in server:
            pass


if __name__ == "__main__":
    main()
