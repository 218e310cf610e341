"""HTTP checks and steps (httpx, imported on first use): health, version, functional calls.

One client per ``verify_tls`` setting lives as long as the executor, so a session's checks
reuse their connections. The body is streamed and only its head is kept (a health URL that
returns a gigabyte must not eat the bastion's memory). Every failure is an Outcome whose
detail names the method and URL, secrets masked.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from typing import Any

from tui.executors import tls
from tui.executors.base import ExecContext, Outcome, OutputSink, ResolvingExecutor
from tui.executors.capture import CaptureError, capture_values
from tui.executors.expect import check_paths, parse_comparison
from tui.executors.text import printable
from tui.runbook.model import HttpAction
from tui.runbook.placeholders import (
    RenderError,
    render_data,
    render_text,
    render_url,
)

KEEP_BYTES = 4 * 1024 * 1024  # enough for any JSON a check reads; the rest is counted, not kept
SHOW_CHARS = 600  # how much of the body goes into the step output
HOST = "local"  # requests leave from this machine (the bastion)


class _Request:
    """A step's request with every placeholder resolved for where it lands."""

    def __init__(self, action: HttpAction, ctx: ExecContext) -> None:
        scope = ctx.scope
        self.method = action.method
        self.url = render_url(action.url, scope)
        if not self.url.lower().startswith(("http://", "https://")):
            raise RenderError(f"URL {ctx.redact(self.url)!r} is not http:// or https://")
        self.headers, self.secret_headers = tls.headers_for(action.headers, scope)
        self.json: Any = render_data(action.json_body, scope) if action.json_body is not None else None
        self.body = render_text(action.body, scope) if action.body is not None else None
        if self.json is not None and self.body is not None:
            raise RenderError("give either 'json' or 'body', not both")
        self.expect_json = {path: render_data(value, scope) for path, value in action.expect_json.items()}

    def line(self, ctx: ExecContext) -> str:
        return ctx.redact(f"{self.method} {self.url}")


class HttpExecutor(tls.WithHttpClients, ResolvingExecutor[HttpAction, _Request]):
    def resolve(self, action: HttpAction, ctx: ExecContext) -> _Request:
        return _Request(action, ctx)

    cannot_resolve = "{action.method} {action.url}  (cannot resolve: {why})"

    def describe_resolved(self, action: HttpAction, request: _Request, ctx: ExecContext) -> list[str]:
        lines = [request.line(ctx)]
        lines += tls.header_lines(request.headers, request.secret_headers, ctx)
        if request.json is not None:
            lines.append("  json: " + ctx.redact(json.dumps(request.json, ensure_ascii=False)))
        if request.body is not None:
            lines.append("  body: " + _clip(ctx.redact(request.body), SHOW_CHARS))
        lines.extend(f"  {ctx.redact(line)}" for line in _expectations(action, request))
        if not action.verify_tls:
            lines.append(tls.UNVERIFIED)
        return lines

    async def run_resolved(self, action: HttpAction, request: _Request, ctx: ExecContext, sink: OutputSink) -> Outcome:
        import httpx

        where = request.line(ctx)
        url = ctx.redact(request.url)
        sink(HOST, "info", where + "\n")
        timeout = action.timeout or ctx.default_timeout
        started = time.perf_counter()
        try:
            status, reason, head, size = await self._send(request, action.verify_tls, timeout)
        except (httpx.TimeoutException, TimeoutError):
            detail = f"{where}: no answer within {timeout:g}s"
            return Outcome("timeout", detail=detail, duration=_since(started), where=url)
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            detail = f"{where}: {request_error(exc, ctx)}"
            return Outcome("failed", detail=detail, duration=_since(started), where=url)
        elapsed = _since(started)
        ms = elapsed * 1000
        text = head.decode("utf-8", "replace")
        summary = f"HTTP {status} {reason} in {ms:.0f} ms, {size} bytes"
        sink(
            HOST,
            "stdout",
            printable(ctx.redact(summary) + "\n" + _clip(ctx.redact(text), SHOW_CHARS).rstrip("\n") + "\n"),
        )
        document, failures = _parse(text, size, action.expect_json or _wants_json(action))
        failures = _check_status(action, status) + failures
        if action.expect_json and document is not _NOT_JSON:
            failures += check_paths(document, request.expect_json)
        if action.expect_max_ms is not None and ms > action.expect_max_ms:
            failures.append(f"took {ms:.0f} ms, expected at most {action.expect_max_ms:g} ms")
        captured: dict[str, str] = {}
        if not failures and action.capture:
            try:
                parsed = None if document is _NOT_JSON else document
                captured = capture_values(action.capture, text, parsed)
            except CaptureError as exc:
                failures.append(str(exc))
        if failures:
            detail = printable(ctx.redact(f"{where}: " + "; ".join(failures)))
            return Outcome("failed", detail=detail, duration=elapsed, summary=summary, exit_status=status, where=url)
        return Outcome(
            "ok",
            detail=f"{where}: {summary}",
            duration=elapsed,
            captured=captured,
            summary=summary,
            exit_status=status,  # the record's Exit column: the HTTP status it answered with
            where=url,
        )

    async def _send(self, request: _Request, verify: bool, timeout: float) -> tuple[int, str, bytes, int]:
        client = self._clients.get(verify)
        kept = bytearray()
        size = 0
        # httpx's timeouts are per read; the overall deadline stops a server that trickles.
        async with asyncio.timeout(timeout):
            async with client.stream(
                request.method,
                request.url,
                headers=request.headers,
                json=request.json,
                content=request.body,
                timeout=timeout,
            ) as response:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if len(kept) < KEEP_BYTES:
                        kept += chunk[: KEEP_BYTES - len(kept)]
        return response.status_code, response.reason_phrase, bytes(kept), size


_NOT_JSON = object()


def _wants_json(action: HttpAction) -> bool:
    return any(spec.startswith("json:") for spec in action.capture.values())


def _parse(text: str, size: int, needed: bool) -> tuple[object, list[str]]:
    """The body as JSON when it is JSON; a failure only when the step needs JSON."""
    if size > KEEP_BYTES:
        return _NOT_JSON, [f"the body ({size} bytes) is too large to read as JSON"] if needed else []
    try:
        return json.loads(text), []
    except ValueError:
        return _NOT_JSON, ["the response is not JSON"] if needed else []


def _check_status(action: HttpAction, status: int) -> list[str]:
    wanted = action.expect_status
    if wanted is None:
        return []
    allowed = wanted if isinstance(wanted, list) else [wanted]
    if status in allowed:
        return []
    return [f"status {status}, expected {' or '.join(str(code) for code in allowed)}"]


def _expectations(action: HttpAction, request: _Request) -> list[str]:
    lines = []
    if action.expect_status is not None:
        lines.append(f"expect status {action.expect_status}")
    lines.extend(f"expect json {path} {_shown(value)}" for path, value in request.expect_json.items())
    if action.expect_max_ms is not None:
        lines.append(f"expect at most {action.expect_max_ms:g} ms")
    if action.capture:
        lines.append("capture " + ", ".join(f"{name} = {how}" for name, how in action.capture.items()))
    return lines


def _shown(value: object) -> str:
    return str(value) if parse_comparison(value) else f"= {json.dumps(value, ensure_ascii=False)}"


def request_error(exc: BaseException, ctx: ExecContext) -> str:
    import httpx

    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        text = "TLS certificate not trusted (" + text.split("certificate verify failed:")[-1].strip(" ()") + ")"
    elif isinstance(exc, httpx.ConnectError):
        text = f"cannot connect: {text}"
    return printable(_clip(" ".join(ctx.redact(text).split()), 300))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more characters)"


def _since(started: float) -> float:
    return time.perf_counter() - started
