"""Lab fixture: chat-platform webhooks on 127.0.0.1 answering as each platform documents.

The real Slack, DingTalk, WeCom and Feishu services are not reachable from here, so this one
server stands in for them (the only stand-in the lab accepts), including their error answers:

- Slack incoming webhook ``POST /slack/services/<token>``: ``200 ok`` (plain text); an unknown
  token ``403 invalid_token``; no ``text`` ``400 no_text``.
- DingTalk ``POST /dingtalk/robot/send?access_token=<t>[&timestamp=&sign=]``: always HTTP 200
  with ``{"errcode": 0, "errmsg": "ok"}``, or ``300001 token is not exist``, ``310000 sign not
  match`` (a signed robot checks HMAC-SHA256(secret, "ts\\nsecret") and a timestamp within an
  hour), ``40035`` for a body without a valid ``msgtype``.
- WeCom ``POST /wecom/cgi-bin/webhook/send?key=<k>``: ``errcode 0``, ``93000 invalid webhook
  url``, ``40008 invalid message type``.
- Feishu ``POST /feishu/open-apis/bot/v2/hook/<token>``: ``{"code": 0, "msg": "success"}``,
  ``19001 param invalid: incoming webhook access token invalid``, ``19021 sign match fail or
  timestamp is not within one hour from current time``, ``9499 Bad Request``.

Each request is recorded (path, query, parsed body) in ``chat.received``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

GOOD = "T0K3N-good-9f2c"
SIGN_SECRET = "SEC-sign-0d5e7a1c"


@dataclass
class ChatLab:
    base: str = ""
    signed_tokens: set[str] = field(default_factory=set)  # tokens whose robot checks signatures
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
        self.signed_tokens = {f"{GOOD}-signed"}


def _dingtalk(query: dict[str, list[str]], body: Any, lab: ChatLab) -> dict[str, Any]:
    token = query.get("access_token", [""])[0]
    if not token.startswith(GOOD):
        return {"errcode": 300001, "errmsg": "token is not exist"}
    if token in lab.signed_tokens:
        stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        wanted = base64.b64encode(
            hmac.new(SIGN_SECRET.encode(), f"{stamp}\n{SIGN_SECRET}".encode(), hashlib.sha256).digest()
        ).decode()
        if not stamp.isdigit() or abs(time.time() * 1000 - int(stamp)) > 3600_000 or sign != wanted:
            return {
                "errcode": 310000,
                "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]",
            }
    kind = body.get("msgtype") if isinstance(body, dict) else None
    if kind not in ("text", "markdown") or not isinstance(body.get(kind), dict):
        return {"errcode": 40035, "errmsg": "缺少参数 json"}
    return {"errcode": 0, "errmsg": "ok"}


def _wecom(query: dict[str, list[str]], body: Any) -> dict[str, Any]:
    if not query.get("key", [""])[0].startswith(GOOD):
        return {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1_abc], from ip: 127.0.0.1"}
    kind = body.get("msgtype") if isinstance(body, dict) else None
    if kind not in ("text", "markdown") or not isinstance(body.get(kind), dict):
        return {"errcode": 40008, "errmsg": "invalid message type, hint: [1700000000_2_abc]"}
    return {"errcode": 0, "errmsg": "ok"}


def _feishu(token: str, body: Any, lab: ChatLab) -> dict[str, Any]:
    if not token.startswith(GOOD):
        return {"code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}}
    if not isinstance(body, dict) or body.get("msg_type") not in ("text", "post", "interactive", "image"):
        return {"code": 9499, "msg": "Bad Request", "data": {}}
    if token in lab.signed_tokens:
        stamp = str(body.get("timestamp", ""))
        wanted = base64.b64encode(hmac.new(f"{stamp}\n{SIGN_SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 3600 or body.get("sign") != wanted:
            return {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour from current time",
                "data": {},
            }
    return {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}


def _handler(lab: ChatLab) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest output is not the place for access logs."""

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = None
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            with lab.lock:
                lab.received.append({"path": parts.path, "query": query, "body": body, "raw_target": self.path})
            path = unquote(parts.path)
            if path.startswith("/slack/services/"):
                if not path.rsplit("/", 1)[-1].startswith(GOOD):
                    self._reply(403, b"invalid_token", "text/html")
                elif not isinstance(body, dict) or not body.get("text"):
                    self._reply(400, b"no_text", "text/html")
                else:
                    self._reply(200, b"ok", "text/html")
                return
            if path == "/dingtalk/robot/send":
                answer = _dingtalk(query, body, lab)
            elif path == "/wecom/cgi-bin/webhook/send":
                answer = _wecom(query, body)
            elif path.startswith("/feishu/open-apis/bot/v2/hook/"):
                answer = _feishu(path.rsplit("/", 1)[-1], body, lab)
            else:
                self._reply(404, b'{"error": "no such route"}', "application/json")
                return
            self._reply(200, json.dumps(answer, ensure_ascii=False).encode(), "application/json")

    return Handler


@pytest.fixture(scope="session")
def _chat_server() -> Iterator[ChatLab]:
    lab = ChatLab()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(lab))
    server.daemon_threads = True
    lab.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield lab
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def chat(_chat_server: ChatLab) -> ChatLab:
    _chat_server.reset()
    return _chat_server
