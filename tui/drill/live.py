"""A drill scenario around a console session: setup once, teardown exactly once, whatever happens.

The headless runner pairs them itself; the console, whose session can end by a finished plan,
an abort or the operator quitting, holds one of these and calls :meth:`ScenarioGuard.teardown`
on every way out (it is idempotent and cannot be cancelled half-way)::

    guard = ScenarioGuard.for_session(session)
    if await guard.setup():           # before the pre-checks
        ...                           # the operator works through the plan
    await guard.teardown()            # on end, abort and quit alike
"""

from __future__ import annotations

import asyncio

from tui.engine.api import ActionResult
from tui.engine.session import Session
from tui.runbook.model import Drill


class ScenarioGuard:
    def __init__(self, session: Session, scenario: Drill | None) -> None:
        self.session = session
        self.scenario = scenario
        self._set_up = False
        self._torn_down: asyncio.Task[list[ActionResult]] | None = None

    @classmethod
    def for_session(cls, session: Session) -> ScenarioGuard:
        """The guard of the scenario the session was started with (a no-op guard without one)."""
        meta = session.events[0].data if session.events else {}
        scenario = session.runbook.drill(str(meta.get("scenario") or "")) if meta.get("mode") == "drill" else None
        return cls(session, scenario)

    @property
    def pending_teardown(self) -> bool:
        return self._set_up and self._torn_down is None

    async def setup(self) -> bool:
        """Run the scenario's setup (once); True when there is none or every step passed."""
        if self.scenario is None or not self.scenario.setup or self._set_up:
            return True
        # Armed before the first step: a setup that fails half-way still leaves things to undo.
        self._set_up = True
        results = await self.session.run_actions(self.scenario.setup, "setup")
        return all(r.ok for r in results) and len(results) == len(self.scenario.setup)

    async def teardown(self) -> list[ActionResult]:
        """Run the scenario's teardown if setup ran; later calls wait for the same run."""
        if self.scenario is None or not self._set_up or not self.scenario.teardown:
            return []
        if self._torn_down is None:
            self._torn_down = asyncio.ensure_future(self.session.run_actions(self.scenario.teardown, "teardown"))
        # Shielded: an abort or a quit that cancels the caller must not cut the teardown short.
        return await asyncio.shield(self._torn_down)
