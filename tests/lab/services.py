"""Lab fixture: the seed runbooks' services as HTTP servers on 127.0.0.1, with the state the
documents describe, so a seed's plan can run for real and its verifications mean something.

``wechat_backend``: the wechat-backend phase 1 API (seed 004) with its v2 feature flags on, the
incident the document rolls back: v2 diagnosis fails and the error rate is high until the
flags are switched off through the admin API (which checks its key).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

V2_FLAGS = (
    "diagnosis_v2_enabled",
    "diagnosis_v2_state_machine",
    "diagnosis_v2_timeout",
    "diagnosis_v2_retry",
    "diagnosis_v2_dead_letter",
    "diagnosis_v2_api_logging",
    "diagnosis_v2_data_persistence",
    "diagnosis_v2_report_stub",
)


@dataclass
class WechatBackend:
    admin_key: str
    version: str = "v2.0.0-phase1"
    flags: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(V2_FLAGS, True))
    tasks: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    @property
    def v2(self) -> bool:
        return self.flags["diagnosis_v2_enabled"]

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        with self.lock:
            self.requests.append((method, path))
            if path == "/api/version":
                return 200, {"version": self.version}
            if path == "/api/health":
                return 200, {"status": "healthy"}
            if path == "/api/admin/feature-flags":
                if method == "GET":
                    return 200, dict(self.flags)
                if headers.get("x-admin-key") != self.admin_key:
                    return 403, {"error": "bad admin key"}
                update = json.loads(body or b"{}")
                unknown = sorted(set(update) - set(self.flags))
                if unknown or not all(isinstance(v, bool) for v in update.values()):
                    return 400, {"error": f"unknown or non-boolean flags: {unknown}"}
                self.flags.update(update)
                return 200, {"ok": True, "flags": dict(self.flags)}
            if path == "/api/perform-brand-test" and method == "POST":
                if self.v2:
                    return 500, {"error": "v2 state machine: dead letter"}  # the incident
                execution = f"exec-{len(self.tasks) + 1}"
                self.tasks[execution] = json.loads(body or b"{}").get("custom_question", "")
                return 200, {"execution_id": execution, "status": "started"}
            if match := re.fullmatch(r"/api/diagnostic/tasks/([^/]+)/(status|report)", path):
                execution, what = match.groups()
                if execution not in self.tasks:
                    return 404, {"error": f"no task {execution}"}
                if what == "status":
                    return 200, {"execution_id": execution, "status": "completed", "progress": 100}
                return 200, {"execution_id": execution, "report": {"question": self.tasks[execution]}}
            if path == "/api/monitoring/metrics":
                return 200, {
                    "error_rate": 0.23 if self.v2 else 0.002,
                    "avg_response_time_ms": 4200 if self.v2 else 310,
                    "cpu_percent": 35,
                    "memory_percent": 52,
                }
            if path == "/api/monitoring/dashboard":
                return 200, {"panels": ["error_rate", "latency"], "ok": True}
            return 404, {"error": f"no route {method} {path}"}


def _handler(service: WechatBackend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, value = service.answer(self.command, urlsplit(self.path).path, headers, body)
            data = json.dumps(value, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

    return Handler


@pytest.fixture
def wechat_backend() -> Iterator[WechatBackend]:
    service = WechatBackend(admin_key="lab-admin-key-5d1e")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    server.daemon_threads = True
    service.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
