"""A session: one incident (or drill) driven through a runbook, journaled as it happens.

Intent goes in through the methods below; events come out through :meth:`Session.subscribe`
(each one journaled and fsynced first). The engine never calls a UI: when it needs the
operator (a destructive step, a manual step, ``on_failure = "ask"``, a step whose outcome was
lost in a crash) it awaits the ``ask`` callback the caller supplied; with ``yes=True`` it
answers the first option itself and the journal says so; with no callback it cannot ask,
so the step does not run and the session says why ("step X needs confirmation; use --yes").

Typical use (the console does the same from workers)::

    session = Session.start(runbook, path, StartOptions(operator="ana", reason="5xx", yes=True))
    session.subscribe(print)
    await session.answer_triage("level", 0)
    await session.choose_plan("A")
    await session.run_checks()
    await session.run_plan()
    await session.verify()
    await session.end()
    await session.close()
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tui.engine.events import Event
from tui.runbook.model import Runbook, Step

Phase = Literal["setup", "pre", "step", "verify", "teardown"]
Subscriber = Callable[[Event], None]


class SessionError(Exception):
    """Bad input at the session's edge (unknown plan, missing param, unreadable secret, a
    session locked by another process); the message is one line for the operator."""


@dataclass(frozen=True)
class Question:
    """Something only the operator can answer. ``options[0]`` is what ``--yes`` answers.

    kind "destructive": options ("yes", "no"); the console asks the operator to type one of
    ``targets`` (host / group names, or the step id for local steps).
    kind "manual": options ("yes", "no") — did you do it?
    kind "on_failure": options ("abort", "retry", "skip", "continue").
    kind "unknown": options ("rerun", "done", "failed", "skip") — the process died mid-step.
    """

    kind: Literal["destructive", "manual", "on_failure", "unknown"]
    step_id: str
    phase: str
    title: str
    text: str
    options: tuple[str, ...]
    describe: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()


Ask = Callable[[Question], Awaitable[str]]


@dataclass(frozen=True)
class StartOptions:
    operator: str | None = None  # default: the login name
    reason: str = ""
    severity: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)  # --var k=v: params and var overrides
    profile: str | None = None
    mode: Literal["live", "drill"] = "live"
    dry_run: bool = False
    yes: bool = False
    scenario: str | None = None
    plan: str | None = None  # choose this plan at start (headless)
    ssh_config: str | None = None
    known_hosts: str | None = None


@dataclass(frozen=True)
class ActionResult:
    """The engine's view of one finished check or step (the same as its journaled event)."""

    id: str
    phase: str
    status: str  # ok | failed | timeout | aborted | unknown | error | skipped | declined | dry_run
    detail: str = ""
    exit_status: int | None = None
    duration: float = 0.0
    attempt: int = 1

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "skipped", "dry_run")


class Session:
    """One session. Create with :meth:`start` (new) or :meth:`open` (resume / read-only view)."""

    id: str
    dir: Path
    runbook: Runbook
    runbook_path: str
    read_only: bool
    locked_by: str | None

    @classmethod
    def start(cls, runbook: Runbook, runbook_path: str, options: StartOptions, ask: Ask | None = None) -> Session:
        """Create the session folder, take its lock, resolve params/vars/secrets and journal
        ``session_started``. Raises :class:`SessionError` for bad input."""
        raise NotImplementedError

    @classmethod
    def open(
        cls,
        ref: str,
        *,
        ask: Ask | None = None,
        yes: bool = False,
        read_only: bool = False,
        ssh_config: str | None = None,
        known_hosts: str | None = None,
    ) -> Session:
        """Reopen a recorded session by id or unique id prefix. If another process holds its
        lock (or ``read_only``), the session is read-only and ``locked_by`` says who has it."""
        raise NotImplementedError

    # --- watching -------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every event from now on (after it is journaled); returns
        a function that unsubscribes."""
        raise NotImplementedError

    @property
    def events(self) -> list[Event]:
        """Every journaled event so far (``output`` chunks excluded)."""
        raise NotImplementedError

    @property
    def state(self) -> object:
        """The session folded from its events (:class:`tui.engine.state.SessionState`)."""
        raise NotImplementedError

    # --- triage and plan ------------------------------------------------------------------

    async def answer_triage(self, node: str, option: int) -> str:
        """Answer flow node ``node``'s question with option index ``option``; returns the next node id."""
        raise NotImplementedError

    @property
    def recommended_plan(self) -> str | None:
        """The plan the triage path (or the severity table) recommends, if any."""
        raise NotImplementedError

    async def choose_plan(self, plan_id: str, reason: str = "") -> None:
        """Choose the plan; ``reason`` says why when it differs from the recommendation."""
        raise NotImplementedError

    # --- checks -----------------------------------------------------------------------------

    async def run_checks(self, ids: Sequence[str] | None = None) -> list[ActionResult]:
        """Run pre-checks (all, or ``ids``) in parallel; re-running one is ``run_checks([id])``."""
        raise NotImplementedError

    async def override_check(self, check_id: str, reason: str) -> None:
        """Go on despite a failed blocking pre-check, saying why."""
        raise NotImplementedError

    def blocking_failures(self) -> list[str]:
        """Ids of blocking pre-checks that did not pass and were not overridden."""
        raise NotImplementedError

    # --- steps ------------------------------------------------------------------------------

    def pending_steps(self) -> list[str]:
        """Ids of the chosen plan's steps not yet finished (ok or skipped), in order."""
        raise NotImplementedError

    async def run_step(self, step_id: str) -> ActionResult:
        """Run (or retry) one plan step, confirming first if it is destructive or manual."""
        raise NotImplementedError

    async def skip_step(self, step_id: str, reason: str = "") -> None:
        raise NotImplementedError

    async def run_plan(self) -> bool:
        """Run the pending steps in order, honouring ``on_failure``; True if all passed."""
        raise NotImplementedError

    async def run_actions(self, actions: Sequence[Step], phase: Phase) -> list[ActionResult]:
        """Run a list of actions in order (drill ``setup`` / ``teardown``); stops at the first failure."""
        raise NotImplementedError

    def abort(self, reason: str = "aborted by the operator") -> None:
        """Cancel whatever is running (executors signal their commands) and stop the plan."""
        raise NotImplementedError

    async def verify(self) -> list[ActionResult]:
        """Run the plan's ``verify`` checks in order."""
        raise NotImplementedError

    # --- checklists, notes, end --------------------------------------------------------------

    async def tick(self, checklist: str, index: int, ticked: bool = True) -> None:
        raise NotImplementedError

    async def note(self, text: str) -> None:
        raise NotImplementedError

    def result(self) -> str:
        """The result the session would end with now: success | partial | failed | aborted."""
        raise NotImplementedError

    async def end(self, result: str | None = None, reason: str = "") -> str:
        """Journal ``session_ended`` (``result`` defaults to :meth:`result`) and return it."""
        raise NotImplementedError

    async def close(self) -> None:
        """Close executors (connections), output files and the lock. Safe to call twice."""
        raise NotImplementedError
