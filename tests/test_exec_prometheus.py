"""The prometheus executor against the lab's real Prometheus, scraping values the test sets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from tests.lab.prometheus import PromLab
from tests.lab.web import WebLab
from tui.executors.base import ExecContext
from tui.executors.prometheus import PrometheusExecutor
from tui.runbook.model import Runbook, SshSettings, Step
from tui.runbook.placeholders import RenderError, Value
from tui.runbook.promql import render_promql

RUNBOOK = Runbook.model_validate(
    {
        "schema": 1,
        "id": "t",
        "title": "t",
        "service": "svc",
        "plans": {"A": {"title": "A", "steps": [{"id": "m", "kind": "manual"}]}},
    }
)
TOKEN = "prom-tok-Zq81-secret"


def step(**fields: Any) -> Step:
    return TypeAdapter(Step).validate_python(
        {"id": "metric", "kind": "prometheus", "url": "{{ prometheus }}", **fields}
    )


def context(url: str, **values: Value) -> ExecContext:
    scope = {"prometheus": Value(url, trusted=True), "token": Value(TOKEN, secret=True), **values}
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
async def executor() -> AsyncIterator[PrometheusExecutor]:
    found = PrometheusExecutor()
    yield found
    await found.close()


async def test_every_series_meets_the_threshold(prom: PromLab, executor: PrometheusExecutor) -> None:
    sink = Sink()
    outcome = await executor.run(step(query="lab_cpu_usage_ratio", expect="< 0.7"), context(prom.url), sink)
    assert outcome.status == "ok", outcome.detail
    assert outcome.summary == "2 series, all < 0.7"
    assert 'lab_cpu_usage_ratio{instance="app-1",job="lab"' in sink.text and "= 0.35" in sink.text
    values = {r["series"].split('instance="')[1].split('"')[0]: r["value"] for r in outcome.readings}
    assert values == {"app-1": "0.35", "app-2": "0.4"}


async def test_one_bad_series_fails_and_names_itself(prom: PromLab, executor: PrometheusExecutor) -> None:
    prom.set("lab_cpu_usage_ratio", 0.93, instance="app-2")
    prom.settle()
    sink = Sink()
    outcome = await executor.run(step(query="lab_cpu_usage_ratio", expect="< 0.7"), context(prom.url), sink)
    assert outcome.status == "failed"
    assert 'instance="app-2"' in outcome.detail and "= 0.93, expected < 0.7" in outcome.detail
    assert "app-1" not in outcome.detail
    assert [r["ok"] for r in sorted(outcome.readings, key=lambda r: str(r["series"]))] == [True, False]
    assert "BAD" in sink.text


async def test_scalar_and_expression(prom: PromLab, executor: PrometheusExecutor) -> None:
    outcome = await executor.run(
        step(query="scalar(sum(lab_error_ratio))", expect="<= 0.01"), context(prom.url), Sink()
    )
    assert outcome.status == "ok", outcome.detail
    assert outcome.readings == [{"series": "{}", "value": "0.004", "ok": True}]


async def test_no_series_is_no_data_not_a_pass(prom: PromLab, executor: PrometheusExecutor) -> None:
    outcome = await executor.run(
        step(query='lab_error_ratio{service="nosuch"}', expect="< 0.01"), context(prom.url), Sink()
    )
    assert outcome.status == "no_data"
    assert not outcome.ok
    assert "no data" in outcome.detail


async def test_promql_error_as_prometheus_reports_it(prom: PromLab, executor: PrometheusExecutor) -> None:
    outcome = await executor.run(step(query="sum(lab_error_ratio", expect="< 1"), context(prom.url), Sink())
    assert outcome.status == "error"
    assert "Prometheus bad_data:" in outcome.detail and "parse error" in outcome.detail


async def test_range_vector_in_an_instant_check_is_explained(prom: PromLab, executor: PrometheusExecutor) -> None:
    outcome = await executor.run(step(query="lab_error_ratio[10s]", expect="< 1"), context(prom.url), Sink())
    assert outcome.status == "error"
    assert "range vector" in outcome.detail


async def test_nan_meets_no_threshold(prom: PromLab, executor: PrometheusExecutor) -> None:
    # 0/0 over the empty histogram is NaN: it is no reading, so not "!= 1" either.
    query = "sum(rate(lab_request_duration_seconds_sum[5s])) / sum(rate(lab_request_duration_seconds_count[5s]))"
    outcome = await executor.run(step(query=query, expect="!= 1"), context(prom.url), Sink())
    assert outcome.status == "failed", outcome.detail
    assert "NaN" in outcome.detail


async def test_histogram_p95_from_observed_latencies(prom: PromLab, executor: PrometheusExecutor) -> None:
    prom.observe(0.3, 95)
    prom.observe(4.0, 5)
    prom.settle()
    query = "histogram_quantile(0.95, sum by (le) (lab_request_duration_seconds_bucket))"
    good = await executor.run(step(query=query, expect="< 2"), context(prom.url), Sink())
    assert good.status == "ok", good.detail
    prom.observe(4.0, 20)
    prom.settle()
    bad = await executor.run(step(query=query, expect="< 2"), context(prom.url), Sink())
    assert bad.status == "failed", bad.detail


async def test_for_window_needs_the_whole_window(prom: PromLab, executor: PrometheusExecutor) -> None:
    # A series that appeared a moment ago has not held anything for 30 s.
    prom.set("lab_error_ratio", 0.001, service="fresh")
    prom.settle()
    fresh = step(query='lab_error_ratio{service="fresh"}', expect="< 0.01", **{"for": "30s", "step": "1s"})
    outcome = await executor.run(fresh, context(prom.url), Sink())
    assert outcome.status == "failed", outcome.detail
    assert "not shown for the whole window" in outcome.detail
    reading = outcome.readings[0]
    assert isinstance(reading["samples"], int) and reading["samples"] < 31 == reading["expected_samples"]


async def test_for_window_catches_a_spike_now_gone(prom: PromLab, executor: PrometheusExecutor) -> None:
    held = step(query='lab_error_ratio{service="shop"}', expect="< 0.01", **{"for": "4s", "step": "1s"})
    for _ in range(8):  # run alone, the lab's series may not yet cover the 4 s window
        ok = await executor.run(held, context(prom.url), Sink())
        if ok.status == "ok" or "not shown for the whole window" not in ok.detail:
            break
        await asyncio.sleep(1)
    assert ok.status == "ok", ok.detail
    prom.set("lab_error_ratio", 0.2, service="shop")
    prom.settle()
    prom.set("lab_error_ratio", 0.004, service="shop")
    prom.settle()
    instant = await executor.run(
        step(query='lab_error_ratio{service="shop"}', expect="< 0.01"), context(prom.url), Sink()
    )
    assert instant.status == "ok"  # now it is fine again...
    outcome = await executor.run(held, context(prom.url), Sink())
    assert outcome.status == "failed", outcome.detail  # ...but it was not fine for the last 4 s
    assert "was 0.2 at" in outcome.detail


async def test_placeholder_stays_a_label_value(prom: PromLab, executor: PrometheusExecutor) -> None:
    nasty = 'shop"} or vector(1) #'
    query = 'lab_error_ratio{service="{{ svc }}"}'
    assert render_promql(query, {"svc": Value(nasty)}) == 'lab_error_ratio{service="shop\\"} or vector(1) #"}'
    outcome = await executor.run(step(query=query, expect="> 0.5"), context(prom.url, svc=Value(nasty)), Sink())
    assert outcome.status == "no_data"  # the injection would have made vector(1) pass "> 0.5"
    regex = render_promql('x{service=~"{{ svc }}"}', {"svc": Value(".*")})
    assert regex == 'x{service=~"\\\\.\\\\*"}'
    with pytest.raises(RenderError, match="PromQL syntax"):
        render_promql("lab_error_ratio > {{ n }}", {"n": Value("0 or vector(1)")})
    assert render_promql("x > {{ n }} and y[{{ w }}]", {"n": Value("0.5"), "w": Value("5m")}) == "x > 0.5 and y[5m]"


async def test_bearer_token_sent_and_never_shown(web: WebLab, executor: PrometheusExecutor) -> None:
    action = step(url="{{ api }}/echo", query="up", expect="> 0", bearer_token="{{ token }}")
    ctx = context(web.base, api=Value(web.base, trusted=True))
    described = "\n".join(executor.describe(action, ctx))
    assert TOKEN not in described and "Authorization: ••••••" in described
    outcome = await executor.run(action, ctx, Sink())
    assert web.received("/echo")[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert outcome.status == "failed" and "not a Prometheus API answer" in outcome.detail
    assert TOKEN not in outcome.detail


async def test_unreachable_and_slow_servers(web: WebLab, executor: PrometheusExecutor) -> None:
    gone = await executor.run(step(query="up", expect="> 0"), context("http://127.0.0.1:9"), Sink())
    assert gone.status == "failed" and "cannot connect" in gone.detail
    slow = step(url="{{ api }}/slow?ms=3000", query="up", expect="> 0", timeout="0.5s")
    started = time.monotonic()
    outcome = await asyncio.wait_for(
        executor.run(slow, context(web.base, api=Value(web.base, trusted=True)), Sink()), 10
    )
    assert outcome.status == "timeout"
    assert time.monotonic() - started < 2.5


async def test_not_prometheus_answer(web: WebLab, executor: PrometheusExecutor) -> None:
    action = step(url="{{ api }}/text", query="up", expect="> 0")
    outcome = await executor.run(action, context(web.base, api=Value(web.base, trusted=True)), Sink())
    assert outcome.status == "failed"
    assert 'HTTP 404, not a Prometheus API answer: {"error": "no such route"' in outcome.detail


def test_expect_must_be_a_numeric_comparison() -> None:
    for bad in ("0.01", "~ ^1", "< high", ""):
        with pytest.raises(ValidationError):
            step(query="up", expect=bad)
    with pytest.raises(ValidationError, match="'for'"):
        step(query="up", expect="> 0", step="5s")
