"""``wait``: a pause, or a poll of a check until it passes or the deadline comes.

Polling runs the named check through the session (which sets :attr:`WaitExecutor.poll`),
so it behaves exactly as the check does on the pre-check screen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from tui.executors.base import ExecContext, Executor, Outcome, OutputSink
from tui.runbook.model import Step, WaitAction

Poll = Callable[[str, OutputSink], Awaitable[Outcome]]


class WaitExecutor(Executor):
    def __init__(self) -> None:
        self.poll: Poll | None = None

    def describe(self, action: Step, ctx: ExecContext) -> list[str]:
        assert isinstance(action, WaitAction)
        if action.seconds is not None:
            return [f"wait {action.seconds:g}s"]
        return [f"poll check {action.until!r} every {action.interval:g}s, for at most {action.deadline:g}s"]

    async def run(self, action: Step, ctx: ExecContext, sink: OutputSink) -> Outcome:
        assert isinstance(action, WaitAction)
        clock = time.monotonic()
        if action.seconds is not None:
            sink("wait", "info", f"waiting {action.seconds:g}s\n")
            await asyncio.sleep(action.seconds)
            return Outcome("ok", f"waited {action.seconds:g}s", duration=time.monotonic() - clock)
        if self.poll is None or action.until is None or action.deadline is None:
            return Outcome("error", "this wait polls a check, but no session runs checks here")
        deadline = clock + action.deadline
        attempt = 0
        last = Outcome("failed", "not polled")
        while True:
            attempt += 1
            last = await self.poll(action.until, sink)
            sink("wait", "info", f"poll {attempt}: {action.until} {last.status} {last.detail}".rstrip() + "\n")
            if last.ok:
                return Outcome(
                    "ok", f"{action.until} passed after {attempt} poll(s)", duration=time.monotonic() - clock
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.sleep(min(action.interval, remaining))
        detail = f"{action.until} still {last.status} after {action.deadline:g}s: {last.detail}".rstrip(": ")
        return Outcome("timeout", detail, duration=time.monotonic() - clock)
