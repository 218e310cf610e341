"""Lab fixture: a real Prometheus on 127.0.0.1 scraping a lab exporter whose values tests set.

Debian's ``prometheus`` package (``.ci/run`` installs it) runs with a temp storage dir and a
1 s scrape interval. The exporter serves the text exposition format from a table the test
writes (``prom.set("lab_error_ratio", 0.02, service="shop")``, ``prom.observe(...)`` for the
latency histogram); every change bumps ``lab_generation``, and :meth:`PromLab.settle` waits
until Prometheus has scraped that generation, so a test reads what it set, never a race.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0)
HISTOGRAM = "lab_request_duration_seconds"

# What a healthy service reads: the seeds' thresholds all pass on these.
DEFAULTS: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {
    ("lab_error_ratio", (("service", "shop"),)): 0.004,
    ("lab_cpu_usage_ratio", (("instance", "app-1"),)): 0.35,
    ("lab_cpu_usage_ratio", (("instance", "app-2"),)): 0.40,
    ("lab_memory_usage_ratio", (("instance", "app-1"),)): 0.55,
    ("lab_conversion_drop_ratio", (("service", "shop"),)): 0.0,
    ("lab_error_rate_increase_ratio", (("service", "shop"),)): 0.0,
    ("lab_diagnosis_failure_ratio", (("service", "wechat"),)): 0.01,
}
# The seed runbooks' queries read recording-rule series (service:error_ratio:rate5m and so on);
# the exporter serves them directly, healthy, per service.
SEED_SERIES: dict[str, dict[str, float]] = {
    "wechat-backend": {
        "service:error_ratio:rate5m": 0.002,
        "service:latency_seconds:avg5m": 0.8,
        "instance:cpu_usage:ratio": 0.35,
        "instance:memory_usage:ratio": 0.6,
        "service:diagnosis_unavailable_users:ratio": 0.0,
        "service:diagnosis_stuck_users:ratio": 0.01,
        "service:noncore_issue_users:ratio": 0.01,
    },
    "watermark-remover": {
        "service:error_ratio:rate5m": 0.0004,
        "service:db_query_seconds:avg5m": 0.012,
        "credit:balance_discrepancy:count": 0.0,
        "credit:transaction_failure:ratio1h": 0.01,
        "service:latency_increase:ratio": 0.05,
        "service:error_rate_increase:ratio": 0.0,
        "service:conversion_drop:ratio": 0.0,
    },
    "shop-backend": {"service:latency_seconds:avg5m": 0.4, "service:latency_increase:ratio": 0.05},
}
DEFAULTS |= {
    (name, (("service", svc),)): value for svc, series in SEED_SERIES.items() for name, value in series.items()
}


@dataclass
class Exporter:
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=lambda: dict(DEFAULTS))
    observations: list[float] = field(default_factory=list)  # the histogram's observed latencies
    generation: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def text(self) -> str:
        with self.lock:
            lines = [f"lab_generation {self.generation}"]
            for (name, labels), value in sorted(self.values.items()):
                shown = ",".join(f'{k}="{v}"' for k, v in labels)
                lines.append(f"{name}{{{shown}}} {value!r}" if shown else f"{name} {value!r}")
            for bound in BUCKETS:
                count = sum(1 for seconds in self.observations if seconds <= bound)
                lines.append(f'{HISTOGRAM}_bucket{{service="shop",le="{bound}"}} {count}')
            lines.append(f'{HISTOGRAM}_bucket{{service="shop",le="+Inf"}} {len(self.observations)}')
            lines.append(f'{HISTOGRAM}_sum{{service="shop"}} {sum(self.observations)!r}')
            lines.append(f'{HISTOGRAM}_count{{service="shop"}} {len(self.observations)}')
        return "\n".join(lines) + "\n"


@dataclass
class PromLab:
    url: str  # the Prometheus server, e.g. http://127.0.0.1:PORT
    exporter: Exporter
    exporter_url: str

    def _bump(self) -> None:
        self.exporter.generation += 1

    def set(self, name: str, value: float, **labels: str) -> None:
        with self.exporter.lock:
            self.exporter.values[(name, tuple(sorted(labels.items())))] = value
            self._bump()

    def remove(self, name: str, **labels: str) -> None:
        with self.exporter.lock:
            self.exporter.values.pop((name, tuple(sorted(labels.items()))), None)
            self._bump()

    def observe(self, seconds: float, count: int = 1) -> None:
        with self.exporter.lock:
            self.exporter.observations.extend([seconds] * count)
            self._bump()

    def reset(self) -> None:
        with self.exporter.lock:
            self.exporter.values = dict(DEFAULTS)
            self.exporter.observations.clear()
            self._bump()

    def query(self, promql: str) -> dict[str, object]:
        target = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(target, timeout=5) as response:
            return json.loads(response.read())

    def wait_until(self, promql: str, timeout: float = 20.0) -> None:
        """Wait until ``promql`` (a filter such as ``max_over_time(x[4s]) < 0.01``) returns data."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.query(promql)["data"]["result"]:  # type: ignore[index]
                return
            time.sleep(0.2)
        raise AssertionError(f"{promql} returned no data within {timeout:g}s")

    def settle(self, timeout: float = 15.0) -> None:
        """Wait until Prometheus has scraped the exporter's current values."""
        wanted = self.exporter.generation
        deadline = time.monotonic() + timeout
        seen: object = None
        while time.monotonic() < deadline:
            try:
                result = self.query("lab_generation")["data"]["result"]  # type: ignore[index]
                seen = result[0]["value"][1] if result else None
                if seen is not None and float(seen) >= wanted:
                    return
            except OSError as exc:
                seen = exc
            time.sleep(0.1)
        raise AssertionError(f"Prometheus did not scrape generation {wanted} within {timeout:g}s (saw {seen!r})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _exporter_server(exporter: Exporter) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest output is not the place for access logs."""

        def do_GET(self) -> None:
            body = exporter.text().encode() if self.path.startswith("/metrics") else b"not found\n"
            self.send_response(200 if self.path.startswith("/metrics") else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"prometheus exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"prometheus not ready within {timeout:g}s: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="session")
def _prometheus_server() -> Iterator[PromLab]:
    binary = shutil.which("prometheus")
    if binary is None:
        # The lab is part of the suite, never optional: a missing server is a failure, not a pass.
        pytest.fail("prometheus is not installed: run `bash .ci/run` (Debian, as root) or `apt-get install prometheus`")
    exporter = Exporter()
    server = _exporter_server(exporter)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    exporter_url = f"http://127.0.0.1:{server.server_address[1]}"
    root = Path(tempfile.mkdtemp(prefix="rbconsole-prom-"))
    config = root / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: lab\n    honor_labels: true\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{server.server_address[1]}']\n"
    )
    log = root / "prometheus.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        for _ in range(3):  # a port picked as free may be taken by another worker before we bind it
            port = _free_port()
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [
                        binary,
                        f"--config.file={config}",
                        f"--storage.tsdb.path={root / 'data'}",
                        f"--web.listen-address=127.0.0.1:{port}",
                        "--storage.tsdb.retention.time=1h",
                        "--query.lookback-delta=5s",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            try:
                _wait_ready(f"http://127.0.0.1:{port}", process, log)
                break
            except RuntimeError:
                process.kill()
                process.wait(timeout=10)
                process = None
        if process is None:
            raise RuntimeError(f"prometheus did not start: {log.read_text(errors='replace')[-2000:]}")
        lab = PromLab(f"http://127.0.0.1:{port}", exporter, exporter_url)
        lab.settle(timeout=30)
        yield lab
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def prom(_prometheus_server: PromLab) -> PromLab:
    """The worker's Prometheus with the exporter back at its healthy defaults, scraped."""
    _prometheus_server.reset()
    _prometheus_server.settle()
    return _prometheus_server
