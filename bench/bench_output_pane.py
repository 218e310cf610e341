"""Step output under a flood: 2,000,000 lines into the plan screen's output pane while keys are
pressed, beside Textual's bare ``Log`` widget (max_lines 10,000) fed the same way.

Lines arrive as the engine delivers them: ``output`` events of one chunk of many lines (a
64 KiB read is ~2,000 lines), through the app's 20 Hz event batches, with the producer
yielding to the loop between chunks as a pipe reader does. A key event is posted every
20 ms and timed from the post to its handler (``pilot.press`` waits for idle, so it cannot
measure latency during a flood). Goals: >= 1,000,000 lines/s, key p95 < 50 ms.

    python bench/bench_output_pane.py [--lines 2000000] [--chunk 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Log

GOAL_RATE = 1_000_000
GOAL_P95_MS = 50.0
KEY_EVERY = 0.02


def chunk_text(start: int, count: int) -> str:
    return "".join(
        f"2026-11-23T03:12:{i % 60:02d} app1 rollback[4242]: line {start + i} of the flood\n" for i in range(count)
    )


class KeyProbe:
    """Posts keys to the driver and records how long each took to reach its handler."""

    def __init__(self, app: App[object]) -> None:
        self.app = app
        self.sent: list[float] = []
        self.latencies: list[float] = []

    def handled(self) -> None:
        if self.sent:
            self.latencies.append(time.perf_counter() - self.sent.pop(0))

    def times(self, widget: object, action: str) -> None:
        """A key counts as handled when ``widget``'s ``action`` method (its binding's) is called."""
        original = getattr(widget, action)

        def timed() -> None:
            self.handled()
            original()

        setattr(widget, action, timed)

    async def run(self, until: Callable[[], bool], key: str) -> None:
        driver = self.app._driver
        assert driver is not None
        while not until():
            event = events.Key(key, None)
            event.set_sender(self.app)
            self.sent.append(time.perf_counter())
            driver.send_message(event)
            await asyncio.sleep(KEY_EVERY)

    def p95_ms(self) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=20)[18] * 1000


async def bench_plan_screen(total: int, chunk: int) -> tuple[float, float, int, int]:
    from screens.plan import PlanScreen
    from tui.app import create_app
    from tui.engine.events import OUTPUT, Event
    from tui.engine.session import StartOptions
    from tui.widgets.output_pane import OutputPane

    runbook = Path(__file__).resolve().parent.parent / "tests" / "data" / "tui_flow.toml"
    app = create_app(runbook)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.start_session(StartOptions(operator="bench", reason="bench", plan="A", values={"reason": "bench"}))
        await app.workers.wait_for_complete()
        app.action_show("plan")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, PlanScreen), screen
        pane = screen.query_one("#pane-all", OutputPane)
        table = screen.query_one("#steps", DataTable)
        probe = KeyProbe(app)
        probe.times(table, "action_cursor_down")
        seq = app.session.events[-1].seq if app.session else 0
        done = False

        async def produce() -> None:
            nonlocal done
            for start in range(0, total, chunk):
                text = chunk_text(start, min(chunk, total - start))
                data = {"id": "announce", "phase": "step", "attempt": 1, "host": "local", "stream": "stdout"}
                app._pending.append(Event(seq, time.time(), OUTPUT, data | {"text": text}))
                await asyncio.sleep(0)
            done = True

        started = time.perf_counter()
        keys = asyncio.create_task(probe.run(lambda: done and pane.written >= total, "down"))
        await produce()
        for _ in range(2000):  # bounded: the last batches reach the pane within a few flushes
            if pane.written >= total:
                break
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        await keys
        await pilot.pause(0.1)
        assert pane.last_line.endswith(f"line {total - 1} of the flood"), pane.last_line
        return total / elapsed, probe.p95_ms(), len(probe.latencies), len(pane.lines)


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Log(max_lines=10_000)


async def bench_bare_log(total: int, chunk: int) -> tuple[float, float, int]:
    app = LogApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        log = app.query_one(Log)
        log.focus()
        probe = KeyProbe(app)
        probe.times(log, "action_scroll_up")
        written = 0
        started = time.perf_counter()
        keys = asyncio.create_task(probe.run(lambda: written >= total, "up"))
        for start in range(0, total, chunk):
            lines = chunk_text(start, min(chunk, total - start)).splitlines()
            log.write_lines(lines)
            written += len(lines)
            await asyncio.sleep(0)
        elapsed = time.perf_counter() - started
        await keys
        await pilot.pause(0.1)
        return total / elapsed, probe.p95_ms(), len(probe.latencies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=2_000, help="lines per output chunk (a 64 KiB read)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        import os

        os.environ["RBCONSOLE_HOME"] = home
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rate, p95, keys, kept = asyncio.run(bench_plan_screen(args.lines, args.chunk))
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    base_rate, base_p95, base_keys = asyncio.run(bench_bare_log(args.lines, args.chunk))
    print(f"{args.lines:,} lines in chunks of {args.chunk:,}")
    print(
        f"plan screen output pane: {rate:12,.0f} lines/s   key p95 {p95:6.1f} ms ({keys} keys)   "
        f"kept {kept:,} lines, max RSS +{(rss_after - rss_before) / 1024:.0f} MiB"
    )
    print(f"baseline bare Log:       {base_rate:12,.0f} lines/s   key p95 {base_p95:6.1f} ms ({base_keys} keys)")
    print(
        f"ratio: {rate / base_rate:.1f}x the lines/s, {p95 / base_p95:.2f}x the key latency   "
        f"(goals: >= {GOAL_RATE:,} lines/s, p95 < {GOAL_P95_MS:.0f} ms)"
    )
    ok = rate >= GOAL_RATE and p95 < GOAL_P95_MS
    print("goal met" if ok else "goal NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
