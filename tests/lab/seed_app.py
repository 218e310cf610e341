"""A seed runbook's service as a real process: an HTTP server on 127.0.0.1 that the lab's service
manager stand-ins (:mod:`tests.lab.servicectl`) start, stop and restart.

``python seed_app.py KIND --port N --state DIR [--app-dir DIR]``. What it knows at start it reads
once, the way a real service loads its code: ``VERSION`` (or, for ``meiyueart``, the first line of
``routes/user_system.py``) from the app dir, so a checkout or restored file shows only after a
restart. ``GET /lab/process`` answers the pid, start time and loaded version. Every request is
appended to ``DIR/requests.log`` ("METHOD path"); mutable state (wechat's feature flags) lives in
``DIR`` so it survives restarts. Kinds:

- ``wechat``: seed 001's API — v2 feature flags (on: diagnosis fails, error rate high), the
  admin API that switches them (checks ``X-Admin-Key`` against ``DIR/admin_key``), diagnosis
  tasks, metrics
- ``shop``: seed 002's backend — health, login (``DIR/test_password``), products, version
- ``partytix-backend`` / ``partytix-frontend``: seed 000's services — health, login
  (``DIR/smoke_password``), the Stripe webhook status
- ``meiyueart``: seed 004's admin backend — health, and which user_system.py it loaded (it
  compiles every ``routes/*.py`` at start: a file with a syntax error keeps it from starting)
- ``credit``: seed 003's application — health
- ``mongodb`` / ``redis``: ``/ping`` (what the lab ``mongo`` / ``redis-cli`` stand-ins ask)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

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


class App:
    def __init__(self, kind: str, state: Path, app_dir: Path | None) -> None:
        self.kind, self.state, self.app_dir = kind, state, app_dir
        self.lock = threading.Lock()
        self.started = time.time()
        self.version = self._loaded_version()
        self.tasks: dict[str, str] = {}

    def _loaded_version(self) -> str:
        if self.app_dir is None:
            return ""
        if self.kind == "meiyueart":
            # the admin backend imports its routes at start: a broken file stops it from starting
            for source in sorted((self.app_dir / "routes").glob("*.py")):
                compile(source.read_text(encoding="utf-8"), str(source), "exec")
            routes = self.app_dir / "routes" / "user_system.py"
            return routes.read_text(encoding="utf-8").splitlines()[0] if routes.exists() else ""
        version = self.app_dir / "VERSION"
        return version.read_text(encoding="utf-8").strip() if version.exists() else ""

    def _secret(self, name: str) -> str:
        path = self.state / name
        return path.read_text(encoding="utf-8").strip() if path.exists() else ""

    # wechat's flags live in the state dir: a restart keeps them, as the real service's store does
    def _flags(self) -> dict[str, bool]:
        path = self.state / "flags.json"
        return json.loads(path.read_text()) if path.exists() else dict.fromkeys(V2_FLAGS, True)

    def _save_flags(self, flags: dict[str, bool]) -> None:
        tmp = self.state / "flags.json.tmp"
        tmp.write_text(json.dumps(flags))
        os.replace(tmp, self.state / "flags.json")

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        with self.lock:
            with (self.state / "requests.log").open("a", encoding="utf-8") as log:
                log.write(f"{method} {path}\n")
            if path == "/lab/process":
                return 200, {"pid": os.getpid(), "started": self.started, "version": self.version}
            route = getattr(self, "_" + self.kind.replace("-", "_"))
            return route(method, path, headers, body)

    def _wechat(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        flags = self._flags()
        v2 = flags["diagnosis_v2_enabled"]
        if path == "/api/version":
            return 200, {"version": self.version}
        if path == "/api/health":
            return 200, {"status": "healthy"}
        if path == "/api/admin/feature-flags":
            if method == "GET":
                return 200, flags
            if not self._secret("admin_key") or headers.get("x-admin-key") != self._secret("admin_key"):
                return 403, {"error": "bad admin key"}
            update = json.loads(body or b"{}")
            unknown = sorted(set(update) - set(flags))
            if unknown or not all(isinstance(v, bool) for v in update.values()):
                return 400, {"error": f"unknown or non-boolean flags: {unknown}"}
            flags.update(update)
            self._save_flags(flags)
            return 200, {"ok": True, "flags": flags}
        if path == "/api/perform-brand-test" and method == "POST":
            if v2:
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
                "error_rate": 0.23 if v2 else 0.002,
                "avg_response_time_ms": 4200 if v2 else 310,
                "cpu_percent": 35,
                "memory_percent": 52,
            }
        if path == "/api/monitoring/dashboard":
            return 200, {"panels": ["error_rate", "latency"], "ok": True}
        return 404, {"error": f"no route {method} {path}"}

    def _login(self, body: bytes, secret: str) -> tuple[int, object]:
        try:
            sent = json.loads(body or b"{}")
        except ValueError:
            return 400, {"error": "body is not JSON"}
        if not self._secret(secret) or sent.get("password") != self._secret(secret) or "@" not in sent.get("email", ""):
            return 401, {"error": "bad credentials"}
        return 200, {"token": "lab-token", "user": sent["email"]}

    def _shop(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        if path == "/api/health":
            return 200, {"status": "ok"}
        if path == "/api/version":
            return 200, {"version": self.version}
        if path == "/api/auth/login" and method == "POST":
            return self._login(body, "test_password")
        if path == "/api/products":
            return 200, {"products": [{"id": 1, "name": "lab product"}]}
        if path == "/":
            return 200, {"page": "home"}
        return 404, {"error": f"no route {method} {path}"}

    def _partytix_backend(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        if path == "/health":
            return 200, {"status": "ok", "version": self.version}
        if path == "/v1/auth/login" and method == "POST":
            return self._login(body, "smoke_password")
        if path == "/v1/webhooks/stripe/status":
            return 200, {"status": "ok"}
        if path == "/v1/payments/checkout" and method == "POST":
            return 201, {"status": "created"}
        return 404, {"error": f"no route {method} {path}"}

    def _partytix_frontend(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        if path in ("/health", "/"):
            return 200, {"status": "ok", "version": self.version}
        return 404, {"error": f"no route {method} {path}"}

    def _meiyueart(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        if path == "/api/health":
            return 200, {"status": "ok", "user_system": self.version}
        return 404, {"error": f"no route {method} {path}"}

    def _credit(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        if path in ("/health", "/api/health", "/"):
            return 200, {"status": "ok", "version": self.version}
        return 404, {"error": f"no route {method} {path}"}

    def _redis(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        return self._mongodb(method, path, headers, body)

    def _mongodb(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        if path == "/ping":
            return 200, {"ok": 1}
        return 404, {"error": f"no route {method} {path}"}


def serve(app: App, port: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: requests.log is the record."""

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, value = app.answer(self.command, urlsplit(self.path).path, headers, body)
            data = json.dumps(value, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever(poll_interval=0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--app-dir", type=Path)
    options = parser.parse_args()
    options.state.mkdir(parents=True, exist_ok=True)
    serve(App(options.kind, options.state, options.app_dir), options.port)


if __name__ == "__main__":
    main()
