"""When escalation is due: once per reason (a failed step, the plan past its target time),
journaled with whom to call in order. The console brings the list up; headless prints it."""

from __future__ import annotations

import asyncio
import time

from tui.engine import events as ev
from tui.engine.branching import due_contacts
from tui.engine.recorder import Recorder
from tui.runbook.model import Runbook


class Escalations:
    def __init__(self, runbook: Runbook, recorder: Recorder, *, dry_run: bool) -> None:
        self._runbook = runbook
        self._recorder = recorder
        self._dry_run = dry_run
        self._overdue: asyncio.TimerHandle | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._closed = False

    async def escalate(self, reason: str, detail: str) -> None:
        """Journal that escalation is due (once per reason), naming whom to call in order."""
        state = self._recorder.state
        if self._dry_run or self._recorder.read_only or state.result or self._closed:
            return
        if any(e.get("reason") == reason for e in state.escalations):
            return
        contacts = due_contacts(self._runbook, reason)
        if contacts:
            drill = state.meta.get("mode") == "drill"  # a rehearsal names whom it would call
            await self._recorder.emit(
                ev.ESCALATION_DUE, {"reason": reason, "detail": detail, "contacts": contacts, "drill": drill}
            )

    def arm_overdue(self) -> None:
        """Escalate when the chosen plan's target time (counted from its choice) passes."""
        state = self._recorder.state
        plan = self._runbook.plans.get(state.plan or "")
        if self._overdue is not None or plan is None or not plan.target_minutes or self._dry_run:
            return
        if self._recorder.read_only or not due_contacts(self._runbook, "overdue"):
            return
        chosen = float(state.plan_event.get("ts") or time.time())
        delay = max(0.0, chosen + plan.target_minutes * 60 - time.time())
        detail = f"plan {state.plan} passed its target of {plan.target_minutes:g} min"

        def due() -> None:
            task = asyncio.ensure_future(self.escalate("overdue", detail))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

        self._overdue = asyncio.get_running_loop().call_later(delay, due)

    async def close(self) -> None:
        """No more escalation; one already under way finishes journaling first."""
        self._closed = True
        if self._overdue is not None:
            self._overdue.cancel()
        for task in list(self._background):
            await asyncio.gather(task, return_exceptions=True)
