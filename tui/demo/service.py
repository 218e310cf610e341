"""demo-web: the sandbox's service, answering ``/health`` and ``/version`` on 127.0.0.1, and an
incident channel at ``POST /hooks/incident`` that answers as a Slack incoming webhook does
(``ok``) and keeps each message in ``run/channel.log``, so the demo's notify steps really send.

It reads what it is from the deployed checkout (``repo/app.json``) and the shared settings once,
at start, like a real service: checking out another tag changes nothing until it is restarted.
"""

from __future__ import annotations

import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tui.demo.sandbox import Sandbox


def _state(box: Sandbox) -> dict[str, Any]:
    app = json.loads(box.app_file.read_text(encoding="utf-8"))
    settings = json.loads(box.settings_file.read_text(encoding="utf-8"))
    error_rate = float(app.get("error_rate", 0.0))
    return {
        "service": "demo-web",
        "version": str(app["version"]),
        "status": "ok" if error_rate < 0.01 else "degraded",
        "error_rate": error_rate,
        "features": settings,
        "pid": os.getpid(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def make_server(box: Sandbox, port: int) -> ThreadingHTTPServer:
    """The bound (not yet serving) server; raises OSError when the port is taken."""
    state = _state(box)
    routes = {
        "/health": {k: state[k] for k in ("status", "version", "error_rate", "features")},
        "/version": {k: state[k] for k in ("service", "version", "pid", "started")},
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = routes.get(self.path.split("?", 1)[0])
            payload = json.dumps(body if body is not None else {"error": "not found"}).encode()
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
            try:
                text = json.loads(self.rfile.read(length) or b"{}").get("text")
            except (ValueError, AttributeError):
                text = None
            if self.path.split("?", 1)[0] != "/hooks/incident":
                status, answer = 404, b"no_service"
            elif not isinstance(text, str) or not text:
                status, answer = 400, b"no_text"
            else:
                with (box.root / "run" / "channel.log").open("a", encoding="utf-8") as channel:
                    channel.write(f"{time.strftime('%H:%M:%S')} {text}\n")
                status, answer = 200, b"ok"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            with box.log_file.open("a", encoding="utf-8") as log:
                log.write(f"{self.log_date_time_string()} {format % args}\n")

    return _Server(("127.0.0.1", port), Handler)


class _Server(ThreadingHTTPServer):
    # A restart right after a stop must get the port back although old connections linger in TIME_WAIT.
    allow_reuse_address = True
    daemon_threads = True


def serve(root: Path, port: int, ready_fd: int | None) -> int:
    """Bind, tell the starter through ``ready_fd`` (``ready`` or ``error: ...``), then serve until killed."""
    box = Sandbox(root)
    try:
        server = make_server(box, port)
    except (OSError, ValueError, KeyError) as exc:
        reason = f"port {port} on 127.0.0.1 is in use" if isinstance(exc, OSError) else f"bad sandbox: {exc}"
        _tell(ready_fd, f"error: {reason}")
        return 1
    _tell(ready_fd, "ready")
    with server:
        server.serve_forever()
    return 0


def _tell(fd: int | None, message: str) -> None:
    if fd is None:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as pipe:
        pipe.write(message + "\n")
