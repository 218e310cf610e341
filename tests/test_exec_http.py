"""The http executor against the lab's real HTTP(S) server."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import pytest
from pydantic import TypeAdapter

from tests.lab.web import WebLab
from tui.executors.base import ExecContext
from tui.executors.http import HttpExecutor
from tui.runbook.model import Runbook, SshSettings, Step
from tui.runbook.placeholders import Value

RUNBOOK = Runbook.model_validate(
    {
        "schema": 1,
        "id": "t",
        "title": "t",
        "service": "svc",
        "plans": {"A": {"title": "A", "steps": [{"id": "m", "kind": "manual"}]}},
    }
)
TOKEN = "tok-Zq81-secret"


def step(**fields: Any) -> Step:
    return TypeAdapter(Step).validate_python({"id": "probe", "kind": "http", **fields})


def context(web: WebLab, **values: Value) -> ExecContext:
    scope = {
        "api": Value(web.base, trusted=True),
        "target_version": Value("v1.0.0", trusted=True),
        "token": Value(TOKEN, secret=True),
        **values,
    }
    return ExecContext(RUNBOOK, scope, {}, SshSettings(), redact=lambda text: text.replace(TOKEN, "***"))


class Sink:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []

    def __call__(self, host: str, stream: str, text: str) -> None:
        self.lines.append((host, stream, text))

    @property
    def text(self) -> str:
        return "".join(text for _, _, text in self.lines)


@pytest.fixture
async def http() -> AsyncIterator[HttpExecutor]:
    executor = HttpExecutor()
    yield executor
    await executor.close()


async def test_health_ok_and_summary_streamed(http: HttpExecutor, web: WebLab) -> None:
    sink = Sink()
    outcome = await http.run(step(url="{{ api }}/health", expect_json={"status": "ok"}), context(web), sink)
    assert outcome.status == "ok", outcome.detail
    assert outcome.summary.startswith("HTTP 200 OK in ")
    assert f"GET {web.base}/health" in sink.text
    assert '{"status": "ok"}' in sink.text
    assert {host for host, _, _ in sink.lines} == {"local"}


async def test_expect_json_comparisons_and_placeholders(http: HttpExecutor, web: WebLab) -> None:
    action = step(
        url="{{ api }}/json",
        expect_json={
            "data.status": "ok",
            "version": "{{ target_version }}",
            "data.error_rate": "< 0.01",
            "data.replicas": ">= 3",
            "data.p95_ms": "< 2000",
            "items.1.state": "!= up",
            "data.id": "~ ^exec-\\d+$",
            "a.b": "dotted-key",
        },
    )
    outcome = await http.run(action, context(web), Sink())
    assert outcome.status == "ok", outcome.detail


async def test_expect_json_failure_names_path_and_values(http: HttpExecutor, web: WebLab) -> None:
    web.document["data"]["error_rate"] = 0.05  # type: ignore[index]
    action = step(url="{{ api }}/json", expect_json={"data.error_rate": "< 0.01", "data.missing": "x", "version": "v9"})
    outcome = await http.run(action, context(web), Sink())
    assert outcome.status == "failed"
    assert f"GET {web.base}/json" in outcome.detail
    assert "data.error_rate: 0.05, expected < 0.01" in outcome.detail
    assert "data.missing: missing" in outcome.detail
    assert "version: 'v1.0.0', expected 'v9'" in outcome.detail


async def test_version_follows_the_service(http: HttpExecutor, web: WebLab) -> None:
    action = step(url="{{ api }}/version", expect_json={"version": "{{ target_version }}"})
    web.version = "v2.0.0"
    assert (await http.run(action, context(web), Sink())).status == "failed"
    web.version = "v1.0.0"
    assert (await http.run(action, context(web), Sink())).status == "ok"


async def test_status_codes(http: HttpExecutor, web: WebLab) -> None:
    bad = await http.run(step(url="{{ api }}/status/503"), context(web), Sink())
    assert bad.status == "failed"
    assert bad.detail == f"GET {web.base}/status/503: status 503, expected 200"
    listed = await http.run(step(url="{{ api }}/status/204", expect_status=[200, 204]), context(web), Sink())
    assert listed.status == "ok", listed.detail
    anything = await http.run(step(url="{{ api }}/status/418", expect_status=None), context(web), Sink())
    assert anything.status == "ok", anything.detail


async def test_expect_max_ms(http: HttpExecutor, web: WebLab) -> None:
    slow = await http.run(step(url="{{ api }}/slow?ms=300", expect_max_ms=100), context(web), Sink())
    assert slow.status == "failed"
    assert "expected at most 100 ms" in slow.detail
    fast = await http.run(step(url="{{ api }}/health", expect_max_ms=5000), context(web), Sink())
    assert fast.status == "ok"


async def test_timeout_is_an_outcome(http: HttpExecutor, web: WebLab) -> None:
    outcome = await http.run(step(url="{{ api }}/slow?ms=5000", timeout="300ms"), context(web), Sink())
    assert outcome.status == "timeout"
    assert outcome.detail == f"GET {web.base}/slow?ms=5000: no answer within 0.3s"


async def test_connection_refused(http: HttpExecutor, web: WebLab) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome = await http.run(step(url=f"http://127.0.0.1:{port}/health"), context(web), Sink())
    assert outcome.status == "failed"
    assert outcome.detail.startswith(f"GET http://127.0.0.1:{port}/health: cannot connect")


async def test_captures(http: HttpExecutor, web: WebLab) -> None:
    json_step = step(url="{{ api }}/json", capture={"exec_id": "json:data.id", "replicas": "json:data.replicas"})
    outcome = await http.run(json_step, context(web), Sink())
    assert outcome.captured == {"exec_id": "exec-42", "replicas": "3"}
    text_step = step(url="{{ api }}/text", capture={"rows": "regex:rows=(\\d+)", "last": "stdout"})
    outcome = await http.run(text_step, context(web), Sink())
    assert outcome.captured == {"rows": "17", "last": "last line"}


async def test_capture_that_finds_nothing_fails_the_step(http: HttpExecutor, web: WebLab) -> None:
    outcome = await http.run(step(url="{{ api }}/text", capture={"id": "json:data.id"}), context(web), Sink())
    assert outcome.status == "failed"
    assert "the response is not JSON" in outcome.detail
    outcome = await http.run(step(url="{{ api }}/json", capture={"id": "json:data.nope"}), context(web), Sink())
    assert outcome.status == "failed"
    assert "capture 'id': no value at 'data.nope'" in outcome.detail


async def test_post_json_headers_and_secret_never_shown(http: HttpExecutor, web: WebLab) -> None:
    action = step(
        method="POST",
        url="{{ api }}/echo/rollback",
        headers={"Authorization": "Bearer {{ token }}", "X-Reason": "{{ reason }}"},
        json={"version": "{{ target_version }}", "reason": "{{ reason }}", "dry": False},
    )
    reason = 'db "down"; $(rm -rf /) {{ x }}'
    ctx = context(web, reason=Value(reason))
    sink = Sink()
    outcome = await http.run(action, ctx, sink)
    assert outcome.status == "ok", outcome.detail
    (request,) = web.received("/echo")
    assert request.method == "POST"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-reason"] == reason
    assert json.loads(request.body) == {"version": "v1.0.0", "reason": reason, "dry": False}
    assert TOKEN not in sink.text  # the echo puts the header in the body; the output masks it
    assert "Bearer ***" in sink.text
    described = "\n".join(http.describe(action, ctx))
    assert TOKEN not in described
    assert "Authorization: ••••••" in described
    assert f"POST {web.base}/echo/rollback" in described
    assert '"reason": "db \\"down\\"; $(rm -rf /) {{ x }}"' in described


async def test_header_line_break_is_refused(http: HttpExecutor, web: WebLab) -> None:
    action = step(url="{{ api }}/echo", headers={"X-Reason": "{{ reason }}"})
    outcome = await http.run(action, context(web, reason=Value("a\r\nX-Injected: 1")), Sink())
    assert outcome.status == "error"
    assert outcome.detail == "probe: header X-Reason: a header value cannot contain a line break"
    assert web.received() == []


async def test_non_ascii_header_is_one_clear_line(http: HttpExecutor, web: WebLab) -> None:
    action = step(url="{{ api }}/echo", headers={"X-Reason": "回滚 {{ reason }}"})
    outcome = await http.run(action, context(web, reason=Value("db")), Sink())
    assert outcome.status == "error"
    assert outcome.detail == (
        "probe: header X-Reason: the value has non-ASCII characters; HTTP header values are ASCII (percent-encode it)"
    )
    assert web.received() == []


async def test_operator_value_stays_one_path_segment(http: HttpExecutor, web: WebLab) -> None:
    action = step(url="{{ api }}/echo/{{ name }}?q={{ name }}")
    name = "../admin?x=1&y=2#frag /sp"
    outcome = await http.run(action, context(web, name=Value(name)), Sink())
    assert outcome.status == "ok", outcome.detail
    (request,) = web.received("/echo")
    segment = request.path.removeprefix("/echo/")
    assert "/" not in segment
    assert unquote(segment) == name
    assert unquote(request.query.removeprefix("q=")) == name


async def test_connections_are_reused(http: HttpExecutor, web: WebLab) -> None:
    for _ in range(3):
        assert (await http.run(step(url="{{ api }}/health"), context(web), Sink())).ok
    assert len({request.client for request in web.received("/health")}) == 1


async def test_large_body_is_counted_not_kept(http: HttpExecutor, web: WebLab) -> None:
    sink = Sink()
    outcome = await http.run(step(url="{{ api }}/big?kb=8192"), context(web), sink)
    assert outcome.status == "ok"
    assert f"{8192 * 1024} bytes" in outcome.summary
    assert len(sink.text) < 2000


async def test_cancel_aborts_the_request(http: HttpExecutor, web: WebLab) -> None:
    task = asyncio.create_task(http.run(step(url="{{ api }}/slow?ms=20000"), context(web), Sink()))
    async with asyncio.timeout(10):
        while not web.received("/slow"):
            await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await task


async def test_tls_is_verified_by_default(http: HttpExecutor, web_tls: WebLab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    action = step(url="{{ api }}/health")
    refused = await http.run(action, context(web_tls), Sink())
    assert refused.status == "failed"
    assert "TLS certificate not trusted" in refused.detail
    unverified = await http.run(step(url="{{ api }}/health", verify_tls=False), context(web_tls), Sink())
    assert unverified.status == "ok", unverified.detail
    assert any(
        "NOT verified" in line for line in http.describe(step(url="{{ api }}/x", verify_tls=False), context(web_tls))
    )


async def test_tls_trusts_the_system_store_override(web_tls: WebLab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(web_tls.cafile))
    executor = HttpExecutor()
    try:
        outcome = await executor.run(step(url="{{ api }}/health"), context(web_tls), Sink())
    finally:
        await executor.close()
    assert outcome.status == "ok", outcome.detail


async def test_bad_scheme_and_unknown_placeholder(http: HttpExecutor, web: WebLab) -> None:
    outcome = await http.run(step(url="file:///etc/passwd"), context(web), Sink())
    assert outcome.status == "error"
    assert "is not http:// or https://" in outcome.detail
    outcome = await http.run(step(url="{{ nowhere }}/x"), context(web), Sink())
    assert outcome.status == "error"
    assert outcome.detail == "probe: no value for {{ nowhere }}"


async def test_dry_run_sends_nothing(http: HttpExecutor, web: WebLab) -> None:
    ctx = ExecContext(RUNBOOK, context(web).scope, {}, SshSettings(), dry_run=True)
    outcome = await http.run(step(url="{{ api }}/health"), ctx, Sink())
    assert outcome.status == "skipped"
    assert web.received() == []


async def test_raw_body_head_and_conflicting_bodies(http: HttpExecutor, web: WebLab) -> None:
    raw = step(
        method="PUT", url="{{ api }}/echo/raw", body="reason={{ reason }}", headers={"Content-Type": "text/plain"}
    )
    outcome = await http.run(raw, context(web, reason=Value("a&b=c")), Sink())
    assert outcome.status == "ok", outcome.detail
    (request,) = web.received("/echo/raw")
    assert (request.method, request.body, request.headers["content-type"]) == ("PUT", b"reason=a&b=c", "text/plain")
    head = await http.run(step(method="HEAD", url="{{ api }}/health"), context(web), Sink())
    assert head.status == "ok" and head.summary.endswith(", 0 bytes")
    both = await http.run(step(url="{{ api }}/echo", body="x", json={"a": 1}), context(web), Sink())
    assert both.status == "error"
    assert both.detail == "probe: give either 'json' or 'body', not both"


async def test_terminal_escapes_in_a_body_are_shown_not_obeyed(http: HttpExecutor, web: WebLab) -> None:
    sink = Sink()
    outcome = await http.run(step(url="{{ api }}/ansi", expect_status=201), context(web), sink)
    assert "\x1b" not in sink.text and "\x07" not in sink.text and "\r" not in sink.text
    assert "\\x1b[2J\\x1b]0;owned\\x07cleared\\x0d" in sink.text
    assert outcome.status == "failed" and "\x1b" not in outcome.detail
