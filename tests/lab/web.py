"""Lab fixture: a real HTTP server on 127.0.0.1 (and an HTTPS one with a self-signed certificate).

Routes, for health checks, thresholds, slow and failing services and webhooks:

- ``GET /health`` -> ``{"status": "ok"}``; ``GET /version`` -> ``{"version": lab.version}``
- ``GET /json`` -> ``lab.document`` (nested metrics-like JSON)
- ``/slow?ms=N`` -> answers after N ms (cut short when the server stops)
- ``/status/NNN`` -> that status code
- ``/echo/...`` -> the request as the server saw it (method, raw target, headers, body) as JSON
- ``POST /webhook/...`` -> 200 ``{"ok": true}`` (a Slack-like sink)
- ``/text`` -> plain text; ``/ansi`` -> terminal escapes; ``/big?kb=N`` -> N KiB of body

Every request is recorded in ``lab.requests`` (raw request target, undecoded), so a test can
check exactly what arrived.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

DEFAULT_DOCUMENT: dict[str, object] = {
    "status": "ok",
    "version": "v1.0.0",
    "data": {"status": "ok", "id": "exec-42", "error_rate": 0.004, "p95_ms": 1200, "replicas": 3},
    "items": [{"name": "orders", "state": "up"}, {"name": "billing", "state": "down"}],
    "a.b": "dotted-key",
}


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # the raw request target, exactly as sent
    headers: dict[str, str]
    body: bytes
    client: tuple[str, int]  # the client's address: the same port means a reused connection

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query


@dataclass
class WebLab:
    base: str = ""
    version: str = "v1.0.0"
    document: dict[str, object] = field(default_factory=lambda: json.loads(json.dumps(DEFAULT_DOCUMENT)))
    requests: list[Request] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    cafile: Path | None = None

    def url(self, path: str) -> str:
        return self.base + path

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
        self.version = "v1.0.0"
        self.document = json.loads(json.dumps(DEFAULT_DOCUMENT))

    def received(self, prefix: str = "/") -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith(prefix)]


def _handler(lab: WebLab) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as separate writes; with Nagle on, each keep-alive
        # request then waits ~40 ms for a delayed ACK.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest output is not the place for access logs."""

        def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            if status in (204, 304) or status < 200:
                body = b""  # these statuses have no body; a stray one would corrupt the next response
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, value: object) -> None:
            self._reply(status, json.dumps(value).encode())

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = Request(self.command, self.path, headers, body, self.client_address[:2])
            with lab.lock:
                lab.requests.append(request)
            path = request.path
            query = parse_qs(request.query)
            if path == "/health":
                self._json(200, {"status": "ok"})
            elif path == "/version":
                self._json(200, {"version": lab.version})
            elif path == "/json":
                self._json(200, lab.document)
            elif path == "/slow":
                ms = min(int(query.get("ms", ["1000"])[0]), 30_000)
                lab.stopping.wait(ms / 1000)
                self._json(200, {"slept_ms": ms})
            elif path.startswith("/status/"):
                self._json(int(path.rsplit("/", 1)[1]), {"status": path.rsplit("/", 1)[1]})
            elif path.startswith("/echo"):
                self._json(
                    200,
                    {
                        "method": request.method,
                        "target": request.target,
                        "headers": request.headers,
                        "body": body.decode("utf-8", "replace"),
                    },
                )
            elif path.startswith("/webhook") and self.command == "POST":
                self._json(200, {"ok": True})
            elif path == "/ansi":
                self._reply(200, b"\x1b[2J\x1b]0;owned\x07cleared\r\n", "text/plain")
            elif path == "/text":
                self._reply(200, b"plain text\nrows=17\nlast line\n", "text/plain; charset=utf-8")
            elif path == "/big":
                self._reply(200, b"x" * 1024 * int(query.get("kb", ["1024"])[0]), "application/octet-stream")
            else:
                self._json(404, {"error": "no such route", "path": path})

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    return Handler


def _serve(lab: WebLab, context: ssl.SSLContext | None) -> Iterator[WebLab]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(lab))
    server.daemon_threads = True
    scheme = "http"
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    lab.base = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield lab
    finally:
        lab.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rbconsole lab")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certfile, keyfile


@pytest.fixture(scope="session")
def _web_server() -> Iterator[WebLab]:
    yield from _serve(WebLab(), None)


@pytest.fixture
def web(_web_server: WebLab) -> WebLab:
    """The worker's HTTP server, its recorded requests and state reset for this test."""
    _web_server.reset()
    return _web_server


@pytest.fixture(scope="session")
def web_tls() -> Iterator[WebLab]:
    """An HTTPS server whose certificate no default trust store knows (``lab.cafile`` trusts it)."""
    with tempfile.TemporaryDirectory(prefix="rbconsole-tls-") as tmp:
        certfile, keyfile = _self_signed(Path(tmp))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        yield from _serve(WebLab(cafile=certfile), context)
