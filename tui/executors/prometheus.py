"""``prometheus``: a PromQL query held to a threshold, now or over a window.

An instant query (``/api/v1/query``) must meet ``expect`` on every series it returns (or on
its scalar). With ``for``, a range query (``/api/v1/query_range``) over that window at
``step`` must meet it at every evaluation of every series, and each series must have data
across the whole window: a value that has been good for ten seconds has not been good for
five minutes. No series at all is "no data", never a pass. A PromQL error is reported as
Prometheus words it. Each series' labels and value go to the step output and into the
outcome's ``readings``, which the journal (and so the record) keeps.
"""

from __future__ import annotations

import asyncio
import json
import math
import ssl
import time
from dataclasses import dataclass
from typing import Any

from tui.executors import tls
from tui.executors.base import ExecContext, Outcome, OutputSink, ResolvingExecutor
from tui.executors.expect import parse_comparison
from tui.executors.http import request_error
from tui.executors.text import printable
from tui.runbook.model import PrometheusAction
from tui.runbook.placeholders import RenderError, render_header, render_url
from tui.runbook.promql import render_promql

DEFAULT_TIMEOUT = 30.0
KEEP_BYTES = 16 * 1024 * 1024  # a larger answer is a query that needs narrowing, not reading
SHOW_SERIES = 50
HOST = "local"


@dataclass(frozen=True)
class Threshold:
    op: str
    operand: float

    @classmethod
    def parse(cls, text: str) -> Threshold:
        comparison = parse_comparison(text)
        if comparison is None or comparison[0] == "~":
            raise RenderError(f"{text!r} is not a comparison such as '< 0.01'")
        return cls(comparison[0], float(comparison[1]))

    def met(self, value: float) -> bool:
        if math.isnan(value):
            return False  # NaN meets nothing, not even "!= 0": it is no reading
        if self.op in ("==", "!="):
            same = math.isclose(value, self.operand, rel_tol=1e-12, abs_tol=0.0) or value == self.operand
            return same == (self.op == "==")
        return {"<": value < self.operand, "<=": value <= self.operand, ">": value > self.operand}.get(
            self.op, value >= self.operand
        )

    def __str__(self) -> str:
        return f"{self.op} {self.operand:g}"


def series_name(labels: dict[str, str]) -> str:
    """A series as Prometheus writes it: ``name{label="value",...}``."""
    name = labels.get("__name__", "")
    rest = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()) if key != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def number(text: object) -> float:
    try:
        return float(str(text))  # Prometheus sends "NaN", "+Inf", "-Inf" as such
    except ValueError:
        return math.nan


class PromQuery:
    def __init__(self, action: PrometheusAction, ctx: ExecContext) -> None:
        scope = ctx.scope
        self.base = render_url(action.url, scope).rstrip("/")
        if not self.base.lower().startswith(("http://", "https://")):
            raise RenderError(f"Prometheus URL {ctx.redact(self.base)!r} is not http:// or https://")
        self.promql = render_promql(action.query, scope)
        self.headers, self.secret_headers = tls.headers_for(action.headers, scope)
        if action.bearer_token is not None:
            self.headers["Authorization"] = "Bearer " + render_header(action.bearer_token, scope)
            self.secret_headers.add("Authorization")
        self.threshold = Threshold.parse(action.expect)
        self.window = action.for_
        self.step = action.step or (max(1.0, round(action.for_ / 30)) if action.for_ else None)

    def where(self, ctx: ExecContext) -> str:
        return ctx.redact(f"{self.base} {self.promql}")


class PrometheusExecutor(tls.WithHttpClients, ResolvingExecutor[PrometheusAction, PromQuery]):
    dry_run_detail = "dry run: nothing queried"

    def resolve(self, action: PrometheusAction, ctx: ExecContext) -> PromQuery:
        return PromQuery(action, ctx)

    cannot_resolve = "prometheus {action.url}  (cannot resolve: {why})"

    def describe_resolved(self, action: PrometheusAction, query: PromQuery, ctx: ExecContext) -> list[str]:
        lines = [f"prometheus {ctx.redact(query.base)}", f"  query: {ctx.redact(query.promql)}"]
        held = f" for {query.window:g}s (every {query.step:g}s)" if query.window else ""
        lines.append(f"  expect every series {query.threshold}{held}")
        lines += tls.header_lines(query.headers, query.secret_headers, ctx)
        if not action.verify_tls:
            lines.append(tls.UNVERIFIED)
        return lines

    async def run_resolved(
        self, action: PrometheusAction, query: PromQuery, ctx: ExecContext, sink: OutputSink
    ) -> Outcome:
        return await self.evaluate(query, action.verify_tls, action.timeout or DEFAULT_TIMEOUT, ctx, sink)

    async def read(
        self, query: PromQuery, verify: bool, timeout: float, ctx: ExecContext
    ) -> tuple[dict[str, Any] | None, Outcome | None]:
        """Prometheus's ``data`` for the query, or the outcome that ends the step."""
        import httpx

        where = query.where(ctx)
        started = time.perf_counter()
        if query.window:
            end = time.time()
            path = "/api/v1/query_range"
            params = {"query": query.promql, "start": f"{end - query.window:.3f}", "end": f"{end:.3f}"}
            params["step"] = f"{query.step:g}s"
        else:
            path, params = "/api/v1/query", {"query": query.promql}
        params["timeout"] = f"{timeout:g}s"
        try:
            async with asyncio.timeout(timeout):
                status, body = await self._get(query.base + path, params, query.headers, verify, timeout)
        except (httpx.TimeoutException, TimeoutError):
            return None, Outcome("timeout", detail=f"{where}: no answer within {timeout:g}s", duration=_since(started))
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            return None, Outcome("failed", detail=f"{where}: {request_error(exc, ctx)}", duration=_since(started))
        if body is None:
            return None, Outcome(
                "error", detail=f"{where}: the answer is over {KEEP_BYTES // 2**20} MiB; narrow the query"
            )
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or answer.get("status") not in ("success", "error"):
            head = printable(ctx.redact(" ".join(body[:200].decode("utf-8", "replace").split())))
            return None, Outcome("failed", detail=f"{where}: HTTP {status}, not a Prometheus API answer: {head}")
        if answer["status"] == "error":
            reason = f"Prometheus {answer.get('errorType', 'error')}: {answer.get('error', '')}"
            return None, Outcome("error", detail=printable(ctx.redact(f"{where}: {reason}")), duration=_since(started))
        return answer, None

    async def evaluate(
        self, query: PromQuery, verify: bool, timeout: float, ctx: ExecContext, sink: OutputSink
    ) -> Outcome:
        where = query.where(ctx)
        sink(HOST, "info", where + "\n")
        started = time.perf_counter()
        answer, ended = await self.read(query, verify, timeout, ctx)
        if ended is not None:
            ended.duration = ended.duration or _since(started)
            return ended
        assert answer is not None
        for warning in answer.get("warnings") or []:
            sink(HOST, "stderr", printable(ctx.redact(f"Prometheus warning: {warning}\n")))
        data = answer.get("data") or {}
        kind, result = data.get("resultType"), data.get("result")
        elapsed = _since(started)
        if kind == "matrix" and not query.window:
            return Outcome(
                "error",
                detail=f"{where}: the query returns a range vector; write an instant expression "
                "(e.g. rate(x[5m]) or max_over_time(x[5m])), and use 'for' to hold it over a window",
                duration=elapsed,
            )
        if kind == "scalar":
            series = [{"metric": {}, "value": result}] if not query.window else []
        elif kind in ("vector", "matrix") and isinstance(result, list):
            series = result
        else:
            return Outcome("error", detail=f"{where}: the query returns a {kind}, not numbers", duration=elapsed)
        if not series:
            sink(HOST, "stdout", "no data: the query returned no series\n")
            return Outcome("no_data", detail=f"{where}: no data (the query returned no series)", duration=elapsed)
        readings = [self._instant(s, query) if not query.window else self._window(s, query) for s in series]
        for reading in readings[:SHOW_SERIES]:
            sink(HOST, "stdout", printable(ctx.redact(_line(reading, query))) + "\n")
        if len(readings) > SHOW_SERIES:
            sink(HOST, "stdout", f"… {len(readings) - SHOW_SERIES} more series\n")
        bad = [r for r in readings if not r["ok"]]
        held = f" for {query.window:g}s" if query.window else ""
        summary = f"{len(readings)} series, " + (
            f"all {query.threshold}{held}" if not bad else f"{len(bad)} not {query.threshold}{held}"
        )
        if bad:
            detail = printable(ctx.redact(f"{where}: {_why(bad[0], query)}" + _more(len(bad))))
            return Outcome("failed", detail=detail, duration=elapsed, summary=summary, readings=readings)
        return Outcome("ok", detail=f"{where}: {summary}", duration=elapsed, summary=summary, readings=readings)

    @staticmethod
    def _instant(series: dict[str, Any], query: PromQuery) -> dict[str, object]:
        labels = {str(k): str(v) for k, v in (series.get("metric") or {}).items()}
        sample = series.get("value") or [0, "NaN"]
        value = number(sample[1])
        return {"series": series_name(labels), "value": str(sample[1]), "ok": query.threshold.met(value)}

    @staticmethod
    def _window(series: dict[str, Any], query: PromQuery) -> dict[str, object]:
        labels = {str(k): str(v) for k, v in (series.get("metric") or {}).items()}
        samples = [(float(ts), number(v), str(v)) for ts, v in series.get("values") or []]
        assert query.window is not None and query.step is not None
        wanted = int(query.window // query.step) + 1
        values = [v for _, v, _ in samples]
        first_bad = next(((ts, text) for ts, v, text in samples if not query.threshold.met(v)), None)
        reading: dict[str, object] = {
            "series": series_name(labels),
            "value": samples[-1][2] if samples else "",
            "min": f"{min(values):g}" if values else "",
            "max": f"{max(values):g}" if values else "",
            "samples": len(samples),
            "expected_samples": wanted,
            "ok": first_bad is None and len(samples) >= wanted,
        }
        if first_bad is not None:
            reading["first_bad"] = {"at": first_bad[0], "value": first_bad[1]}
        return reading

    async def _get(
        self, url: str, params: dict[str, str], headers: dict[str, str], verify: bool, timeout: float
    ) -> tuple[int, bytes | None]:
        kept = bytearray()
        async with self._clients.get(verify).stream(
            "GET", url, params=params, headers=headers, timeout=timeout
        ) as response:
            async for chunk in response.aiter_bytes():
                kept += chunk
                if len(kept) > KEEP_BYTES:
                    return response.status_code, None
        return response.status_code, bytes(kept)


def _line(reading: dict[str, object], query: PromQuery) -> str:
    mark = "ok " if reading["ok"] else "BAD"
    if "samples" not in reading:
        return f"{mark} {reading['series']} = {reading['value']}  (expect {query.threshold})"
    return (
        f"{mark} {reading['series']} now {reading['value']}, min {reading['min']}, max {reading['max']} "
        f"over {reading['samples']}/{reading['expected_samples']} samples  (expect {query.threshold} "
        f"for {query.window:g}s)"
    )


def _why(reading: dict[str, object], query: PromQuery) -> str:
    if "samples" not in reading:
        return f"{reading['series']} = {reading['value']}, expected {query.threshold}"
    bad = reading.get("first_bad")
    if isinstance(bad, dict):
        at = time.strftime("%H:%M:%S", time.localtime(float(bad["at"])))
        return f"{reading['series']} was {bad['value']} at {at}, expected {query.threshold} for {query.window:g}s"
    return (
        f"{reading['series']} has data for {reading['samples']} of the {reading['expected_samples']} "
        f"evaluations in the last {query.window:g}s: {query.threshold} not shown for the whole window"
    )


def _more(count: int) -> str:
    return f" (and {count - 1} more series)" if count > 1 else ""


def _since(started: float) -> float:
    return time.perf_counter() - started
