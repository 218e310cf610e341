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

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any, Unpack

from tui.engine import events as ev
from tui.engine import fence, monitors
from tui.engine.api import CHECK_PHASES, ActionResult, Ask, Phase, Question, SessionError, StartOptions, Subscriber
from tui.engine.branching import FAILED, OPTIONAL_OPTIONS, alternatives, has_alternative, lookup, secret
from tui.engine.drift import BaselineSource, plan_baselines
from tui.engine.escalation import Escalations
from tui.engine.events import Event
from tui.engine.monitors import MonitorReading
from tui.engine.opening import Opening, Reopening, create, outline, plan_scope, reopen
from tui.engine.recorder import Recorder, one_line
from tui.engine.redact import Redactor
from tui.engine.results import RESULTS
from tui.engine.runner import Runner
from tui.engine.state import SessionState, plan_window
from tui.engine.store import live_runs
from tui.engine.values import ValuesError
from tui.executors.base import ExecContext
from tui.runbook.conditions import ConditionError, evaluate, parse
from tui.runbook.model import Checklists, ManualAction, NotifyAction, Plan, Runbook, Step
from tui.runbook.placeholders import RenderError, Value
from tui.runbook.uses import secrets_needed, var_templates

__all__ = ["ActionResult", "Ask", "Phase", "Question", "Session", "SessionError", "StartOptions", "Subscriber"]

DESTRUCTIVE_OPTIONS = ("yes", "no")
ON_FAILURE_OPTIONS = ("abort", "retry", "skip", "continue")
UNKNOWN_OPTIONS = ("rerun", "done", "failed", "skip")


_OPEN = frozenset({"pending", "running", "unknown"})


class Session:
    """One session, composed of its parts: the :class:`Recorder` (journal, state, subscribers),
    the :class:`Runner` (one action through its executor), :class:`Escalations`, and the
    :class:`Opening` it was built from. Create with :meth:`start` (new) or :meth:`open`
    (resume / read-only view); ``baselines`` (the drill history,
    :func:`tui.drill.drift.plan_baselines`) lets a live or drill session journal its drift."""

    def __init__(self, opening: Opening, *, ask: Ask | None = None, baselines: BaselineSource | None = None) -> None:
        self.id = opening.session_id
        self.dir = opening.directory
        self.runbook = opening.runbook
        self.runbook_path = opening.runbook_path
        self.locked_by = opening.lock.holder
        self.fence_source = opening.fence_source
        self._lock = opening.lock
        self._values = opening.values
        self._scope: dict[str, Value] = opening.values.scope
        self._redact = Redactor(opening.values.secrets)
        self._ask = ask
        self._yes = opening.yes
        self._dry_run = opening.dry_run
        self._headless = opening.headless
        self._with = frozenset(opening.with_steps)
        self._baselines = baselines
        self._recorder = Recorder(
            opening.session_id, opening.journal, opening.lock, self._redact, opening.history, live=opening.live
        )
        self._runner = Runner(self.runbook, self._recorder, self._values, self._redact, self.dir, dry_run=self._dry_run)
        self._escalations = Escalations(self.runbook, self._recorder, dry_run=self._dry_run)
        self._stop_reason = ""
        self._declined = False  # the plan stopped because a confirmation was refused or impossible
        self.unanswered = False  # a question came up that nobody was there to answer
        self._closed = False
        for name, text in self.state.captured.items():
            self._scope[name] = Value(text)
        if self.state.plan in self.runbook.plans:
            self._scope.update(plan_scope(self.runbook, self.state.plan))
        for kind, data in opening.events:
            self._recorder.record_now(kind, data)

    @classmethod
    def start(
        cls,
        runbook: Runbook,
        runbook_path: str,
        options: StartOptions,
        ask: Ask | None = None,
        *,
        baselines: BaselineSource | None = None,
    ) -> Session:
        """Create the session folder, take its lock, resolve params/vars/secrets and journal
        ``session_started``. Raises :class:`SessionError` for bad input."""
        return cls(create(runbook, runbook_path, options), ask=ask, baselines=baselines)

    @classmethod
    def open(
        cls, ref: str, *, ask: Ask | None = None, baselines: BaselineSource | None = None, **how: Unpack[Reopening]
    ) -> Session:
        """Reopen a recorded session by id or unique id prefix (see :func:`~tui.engine.opening.reopen`).
        If another process holds its lock (or ``read_only``), the session is read-only and
        ``locked_by`` says who has it; otherwise ``session_resumed`` is journaled and it continues."""
        return cls(reopen(ref, **how), ask=ask, baselines=baselines)

    # --- what the session holds ----------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """``subscriber`` gets every event from now on (journaled first); returns the unsubscribe."""
        return self._recorder.subscribe(subscriber)

    @property
    def events(self) -> list[Event]:
        return self._recorder.events

    @property
    def state(self) -> SessionState:
        return self._recorder.state

    @property
    def read_only(self) -> bool:
        return self._recorder.read_only

    @property
    def yes(self) -> bool:
        """Confirmations are answered by ``--yes``."""
        return self._yes

    @property
    def journal_ok(self) -> bool:
        return self._recorder.journal_ok

    @property
    def broken(self) -> str | None:
        """Why nothing more may run (the journal or an output file failed), or None."""
        return self._recorder.broken

    @property
    def redact(self) -> Callable[[str], str]:
        return self._redact

    def describe(self, action: Step, phase: str = "step") -> list[str]:
        """What ``action`` would run, resolved and with secrets masked."""
        return self._runner.describe(action, phase)

    @staticmethod
    def targets(action: Step) -> tuple[str, ...]:
        return Runner.targets(action)

    def context(self, phase: str) -> ExecContext:
        """The context the session's executors run ``phase`` actions in (its values, hosts, ssh)."""
        return self._runner.context(phase)

    # --- secrets for the chosen plan ------------------------------------------------------------

    def _read_secrets_for(self, plan_id: str) -> list[str]:
        """Read the secrets ``plan_id`` needs that the session has not read yet; returns the dry
        run's stand-in lines. Raises SessionError naming every secret that cannot be read."""
        meta = self.state.meta
        needed = secrets_needed(self.runbook, plan=plan_id, scenario=meta.get("scenario"), profile=meta.get("profile"))
        if needed <= self._values.read or self._values.again is None:
            return []
        known = {name: self._scope[name].text for name in self._values.read}
        try:
            fresh = self._values.again(secrets=known, needed=needed | self._values.read)
        except ValuesError as exc:
            raise SessionError(f"plan {plan_id}: {exc}") from None
        names = set(self.runbook.secrets) | set(var_templates(self.runbook, meta.get("profile")))
        for name in names & set(fresh.scope):
            self._scope[name] = fresh.scope[name]
        self._redact.add(fresh.secrets)
        self._values.secrets = fresh.secrets
        self._values.read = fresh.read
        self._values.hosts, self._values.ssh = fresh.hosts, fresh.ssh
        return fresh.stand_ins

    # --- asking the operator -------------------------------------------------------------------

    async def _question(self, question: Question) -> tuple[str | None, str]:
        """The answer and who gave it; None when nobody could answer or the answer was not
        one of the options (the caller then stops rather than guess)."""
        if self._yes and question.kind != "optional":  # --yes confirms; it never decides to run more
            answer, by = question.options[0], "--yes"
        elif self._ask is None:
            answer, by = None, "no-tty"
            self.unanswered = True
        else:
            answer, by = await self._ask(question), "operator"
            if answer not in question.options:
                answer = None  # an answer that is not one of the options is no answer at all
        await self._recorder.emit(
            ev.CONFIRMATION,
            {"id": question.step_id, "phase": question.phase, "question": question.kind, "answer": answer, "by": by},
        )
        return answer, by

    # --- triage and plan ------------------------------------------------------------------

    async def answer_triage(self, node: str, option: int) -> str:
        """Answer flow node ``node``'s question with option index ``option``; returns the next node id."""
        flow = self.runbook.flow
        if flow is None or node not in flow.nodes:
            raise SessionError(f"flow node {node!r} is not defined")
        current = flow.nodes[node]
        if not 0 <= option < len(current.options):
            raise SessionError(f"flow node {node!r} has no option {option + 1}")
        chosen = current.options[option]
        await self._recorder.emit(
            ev.TRIAGE_ANSWERED,
            {"node": node, "text": current.text, "ask": current.ask, "option": option, "label": chosen.label},
        )
        target = chosen.next
        # Walk plain `next` links to the next question or leaf, so the path shows every box.
        for _ in range(len(flow.nodes)):
            step = flow.nodes[target]
            if step.next is None:
                break
            target = step.next
        leaf = flow.nodes[target]
        if leaf.plan is not None or leaf.action is not None:
            await self._recorder.emit(
                ev.TRIAGE_REACHED, {"node": target, "text": leaf.text, "plan": leaf.plan, "action": leaf.action}
            )
        return target

    # --- live monitors ------------------------------------------------------------------------

    @property
    def has_live_monitors(self) -> bool:
        return any(m.live for m in self.runbook.monitors) and not self._dry_run

    async def peek_monitors(self) -> tuple[list[MonitorReading], str | None]:
        """The live monitors read now and the severity they suggest (not journaled: the
        triage screen refreshes with this every few seconds)."""
        if not self.has_live_monitors:
            return [], None
        readings = await monitors.read_all(
            self.runbook, self._runner.context("pre"), self._runner.executor("prometheus")
        )  # type: ignore[arg-type]
        return readings, monitors.suggest(self.runbook, readings)

    async def read_monitors(self, at: str) -> tuple[list[MonitorReading], str | None]:
        """Read the live monitors and journal the readings (``at`` "start" or "end")."""
        readings, suggested = await self.peek_monitors()
        if readings:
            data = {"at": at, "readings": [r.as_data() for r in readings], "suggested": suggested}
            await self._recorder.emit(ev.MONITORS_READ, data)
        return readings, suggested

    async def set_severity(self, level: str, suggested: str | None = None) -> None:
        """The operator confirms or changes the incident's severity (e.g. after the monitors)."""
        if self.runbook.severity and level not in {s.level for s in self.runbook.severity}:
            known = ", ".join(s.level for s in self.runbook.severity)
            raise SessionError(f"severity {level!r} is not defined (known: {known})")
        previous = self.state.meta.get("severity")
        self._scope["severity"] = Value(level, trusted=True)
        data = {"level": level, "previous": previous, "suggested": suggested, "by": self.state.operator}
        await self._recorder.emit(ev.SEVERITY_SET, data)

    @property
    def recommended_plan(self) -> str | None:
        """The plan the triage path (or the severity table) recommends, if any."""
        if self.state.reached and self.state.reached.get("plan"):
            return str(self.state.reached["plan"])
        level = self.state.meta.get("severity")
        return next((s.plan for s in self.runbook.severity if s.level == level and s.plan), None)

    async def choose_plan(self, plan_id: str, reason: str = "") -> None:
        """Choose the plan; ``reason`` says why when it differs from the recommendation."""
        if plan_id not in self.runbook.plans:
            raise SessionError(f"plan {plan_id!r} is not defined (known: {', '.join(self.runbook.plans)})")
        plan = self.runbook.plans[plan_id]
        stand_ins = self._read_secrets_for(plan_id)
        found, refused = self._fence(plan_id)
        if refused and found is not None and not self._dry_run:
            raise fence.Refused(found, str(self.state.meta.get("profile") or ""))
        self._scope.update(plan_scope(self.runbook, plan_id))
        data = {
            "plan": plan_id,
            "title": plan.title,
            "target_minutes": plan.target_minutes,
            "target_version": plan.target_version,
            "steps": [outline(step) for step in plan.steps],
            "verify": [outline(check) for check in plan.verify],
            "recommended": self.recommended_plan,
            "reason": reason,
        }
        if found is not None:
            data["targets"] = fence.summary(found)
        if self._baselines is not None and not self._dry_run:
            # Journaled, so the record, the printer and the plan screen compare with the same
            # history, whatever it holds later (a dry run ran nothing to compare).
            data["baselines"] = await plan_baselines(
                self._baselines, self.runbook.id, plan_id, (s.id for s in plan.steps)
            )
        await self._recorder.emit(ev.PLAN_CHOSEN, data)
        if self.state.meta.get("mode") == "live" and not self._dry_run:
            for other in await asyncio.to_thread(live_runs, self.runbook.id, plan_id, self.id):
                await self._recorder.emit(ev.WARNING, {"message": f"plan {plan_id} is already running live: {other}"})
        for message in stand_ins:
            await self._recorder.emit(ev.WARNING, {"message": f"dry run: {message}", "problem": True})
        self._escalations.arm_overdue()
        for line in fence.summary(found)["production"] if found and self._dry_run else []:
            message = f"dry run: a live drill would refuse: {line}"
            await self._recorder.emit(ev.WARNING, {"message": message, "problem": True})

    def _fence(self, plan_id: str) -> tuple[list[fence.Target] | None, str]:
        """The plan's targets when the session is fenced in (None when it is not), and the refusal."""
        meta = self.state.meta
        profile = meta.get("profile")
        if not fence.applies(self.runbook, profile, str(meta.get("mode", "live"))):
            return None, ""
        raw, given = self.fence_source
        found = fence.targets(
            self.runbook, raw, self.runbook_path, self._values, given,
            profile=profile, plan=plan_id, scenario=meta.get("scenario"),
        )  # fmt: skip
        return found, fence.refusal(found, profile or "")

    @property
    def plan(self) -> Plan | None:
        return self.runbook.plans.get(self.state.plan or "")

    # --- checks -----------------------------------------------------------------------------

    async def run_checks(self, ids: Sequence[str] | None = None) -> list[ActionResult]:
        """Run pre-checks (all, or ``ids``); re-running one is ``run_checks([id])``. The automatic
        ones run in parallel while the operator is asked about the manual ones, one at a time."""
        self._refuse_if_ended()
        self._runner.clear_abort()
        chosen = [c for c in self.runbook.checks if ids is None or c.id in ids]
        manual = [c for c in chosen if isinstance(c, ManualAction)]

        async def ask_in_turn() -> list[ActionResult]:
            return [await self._confirm_then_run(check, "pre", None, {}) for check in manual]

        automatic = [self._runner.run(check, "pre") for check in chosen if not isinstance(check, ManualAction)]
        *ran, asked = await asyncio.gather(*automatic, ask_in_turn())
        by_id = {result.id: result for result in [*ran, *asked]}
        results = [by_id[check.id] for check in chosen]
        for result in results:
            await self._tick_from_check(result)
        return results

    def checks_not_run(self) -> list[str]:
        """Pre-checks with no result yet: never started (the session stopped while the operator
        was asked about a manual one) or cut off by a crash ("unknown"). A resumed session runs
        them before its plan: a check nobody ran must not count as passed by its silence."""
        return [
            check.id
            for check in self.runbook.checks
            if (action := self.state.action("pre", check.id)) is None or action.status == "unknown"
        ]

    async def override_check(self, check_id: str, reason: str) -> None:
        """Go on despite a failed blocking pre-check, saying why."""
        if not reason.strip():
            raise SessionError("overriding a pre-check needs a reason")
        by = self.state.operator
        await self._recorder.emit(
            ev.CHECK_OVERRIDDEN, {"id": check_id, "phase": "pre", "reason": reason, "by": by or ""}
        )

    def blocking_failures(self) -> list[str]:
        """Ids of blocking pre-checks that did not pass and were not overridden."""
        failed = []
        for check in self.runbook.checks:
            action = self.state.action("pre", check.id)
            blocking = check.severity == "blocking" and check.id not in self.state.overrides
            if blocking and action is not None and not action.done:
                failed.append(check.id)
        return failed

    def _after_plan(self, result: ActionResult) -> bool:
        """Whether ``result`` was obtained after the plan ran: a verification, or a check
        started after the last plan step finished."""
        if result.phase == "verify":
            return True
        steps = self.state.in_phase("step")
        ends = [h["ts"] for a in steps for h in a.history if h.get("ts") is not None]
        ends += [a.last["ts"] for a in steps if a.status == "skipped" and a.last.get("ts") is not None]
        check = self.state.action(result.phase, result.id)
        return bool(ends) and check is not None and check.started is not None and check.started > max(ends)

    async def _tick_from_check(self, result: ActionResult) -> None:
        if result.status in ("dry_run", "skipped"):
            return  # a check that never ran proves nothing: its items stay for the operator
        lists: Checklists = self.runbook.checklists
        after = self._after_plan(result)
        for name in ("pre", "during", "post", "followup"):
            if name in ("post", "followup") and not after:
                continue  # what held before the rollback says nothing about after it
            for index, item in enumerate(getattr(lists, name)):
                if isinstance(item, str) or item.check != result.id:
                    continue
                current = self.state.ticks.get((name, index), {}).get("ticked", False)
                if current != result.ok:
                    await self._recorder.emit(
                        ev.CHECKLIST_TICKED,
                        {
                            "list": name,
                            "index": index,
                            "text": item.text,
                            "ticked": result.ok,
                            "by": f"check:{result.id}",
                        },
                    )

    # --- steps ------------------------------------------------------------------------------

    def _step(self, step_id: str) -> tuple[int, Step]:
        plan = self.plan
        if plan is None:
            raise SessionError("choose a plan first")
        for index, step in enumerate(plan.steps):
            if step.id == step_id:
                return index, step
        raise SessionError(f"plan {self.state.plan!r} has no step {step_id!r}")

    def not_run_steps(self) -> list[str]:
        """Ids of the chosen plan's steps that never started (nor were skipped)."""
        plan = self.plan
        if plan is None:
            return []
        return [s.id for s in plan.steps if not (a := self.state.action("step", s.id)) or a.status == "pending"]

    def pending_steps(self) -> list[str]:
        """Ids of the chosen plan's steps not yet finished (ok or skipped), in order. A failed step
        whose alternative then ran and passed is finished: the plan took the other way."""
        plan = self.plan
        if plan is None:
            return []
        handled = alternatives(self.state)
        return [
            s.id
            for s in plan.steps
            if (not (a := self.state.action("step", s.id)) or not a.done) and s.id not in handled
        ]

    def unknown_steps(self) -> list[str]:
        """Ids of plan steps whose outcome was lost in a crash and is not answered yet."""
        plan = self.plan
        if plan is None:
            return []
        return [s.id for s in plan.steps if (a := self.state.action("step", s.id)) and a.status == "unknown"]

    async def resolve_unknown(self) -> list[str | None]:
        """Ask about every step whose outcome is unknown (run it again / it happened / it
        failed / skip), in plan order; each answer is journaled. None: not answered (it stays
        unknown, and nothing else runs until it is)."""
        answers: list[str | None] = []
        for step_id in self.unknown_steps():
            _, step = self._step(step_id)
            answers.append(await self._resolve_unknown(step, "step"))
        return answers

    def _refuse_past_unknown(self, step_id: str | None = None) -> None:
        unknown = [s for s in self.unknown_steps() if s != step_id]
        if unknown:
            raise SessionError(
                f"step {unknown[0]} has an unknown outcome (the session was interrupted while it ran): "
                "say what happened to it first"
            )

    def _refuse_if_ended(self) -> None:
        """An ended session runs nothing more: its record would change after it was final."""
        if self.state.result:
            raise SessionError(f"the session has ended ({self.state.result}): nothing more runs in it")

    def _refuse_past_blocking(self) -> None:
        """A blocking pre-check that failed holds every step until it passes or is overridden
        with a reason: a console screen reached by another key must not walk around it."""
        self._refuse_if_ended()
        blocked = self.blocking_failures()
        running = [c for c in blocked if (a := self.state.action("pre", c)) is not None and a.status == "running"]
        failed = [c for c in blocked if c not in running]
        if failed:
            raise SessionError(
                f"blocking pre-check {', '.join(failed)} did not pass: re-run it, or override it with a reason"
            )
        if running:
            raise SessionError(f"blocking pre-check {', '.join(running)} is still running: the plan waits for it")

    async def run_step(self, step_id: str) -> ActionResult:
        """Run (or retry) one plan step, confirming first if it is destructive or manual. A step
        whose outcome is unknown is asked about first; no step runs past another such one."""
        index, step = self._step(step_id)
        self._refuse_past_blocking()
        self._refuse_past_unknown(step_id)
        self._runner.clear_abort()
        action = self.state.action("step", step_id)
        if action is not None and action.status == "unknown":
            answer = await self._resolve_unknown(step, "step")
            if answer != "rerun":
                current = self.state.action("step", step_id)
                status = current.status if current is not None else "unknown"
                return ActionResult(step_id, "step", status, f"answered {answer or 'nothing'} about its lost outcome")
        return await self._confirm_and_run(step, "step", index)

    # --- branching: when and optional ----------------------------------------------------------

    async def _gate(self, step: Step, phase: str, index: int | None) -> ActionResult | dict[str, str]:
        """Whether ``step`` runs now: the result of not running it (skipped, or an error when its
        condition cannot be evaluated), or what its condition saw when it holds."""
        why: dict[str, str] = {}
        if self._dry_run or phase not in ("step", "verify"):
            return why
        if step.when:
            try:
                holds, seen = evaluate(parse(step.when), lookup(self.state, self._scope), secret(self._scope))
            except ConditionError as exc:
                return await self._runner.refuse(step, phase, index, f"cannot evaluate when = {step.when}: {exc}")
            why = {"when": step.when, "values": seen}
            if not holds:
                reason = f"condition false ({step.when}{'; ' + seen if seen else ''})"
                return await self._skipped(step, phase, index, reason, "condition", why)
        if step.optional and phase == "step":
            answer, by = await self._decide_optional(step, phase)
            if answer != "run":
                reason = {
                    "headless": f"optional, not run headless (--with {step.id} runs it)",
                    "operator": "optional, the operator chose to skip it",
                }.get(by, f"optional, no answer ({by})")
                return await self._skipped(step, phase, index, reason, "optional", {**why, "decided_by": by})
        return why

    async def _decide_optional(self, step: Step, phase: str) -> tuple[str | None, str]:
        if step.id in self._with or (self._headless or self._ask is None):
            answer, by = ("run", "--with") if step.id in self._with else ("skip", "headless")
            await self._recorder.emit(
                ev.CONFIRMATION, {"id": step.id, "phase": phase, "question": "optional", "answer": answer, "by": by}
            )
            return answer, by
        text = f"Run this optional step? {step.ask}" if step.ask else "Run this optional step?"
        question = Question(
            "optional", step.id, phase, step.title or step.id, text, OPTIONAL_OPTIONS,
            tuple(self.describe(step, phase)), self.targets(step),
        )  # fmt: skip
        return await self._question(question)

    async def _skipped(
        self, step: Step, phase: str, index: int | None, reason: str, by: str, why: dict[str, str]
    ) -> ActionResult:
        data = {"id": step.id, "phase": phase, "index": index, "reason": reason, "by": by, **why}
        await self._recorder.emit(ev.STEP_SKIPPED, data)
        return ActionResult(step.id, phase, "skipped", reason)

    async def _confirm_and_run(self, step: Step, phase: str, index: int | None) -> ActionResult:
        gate = await self._gate(step, phase, index)
        if isinstance(gate, ActionResult):
            result = gate
        else:
            result = await self._confirm_then_run(step, phase, index, gate)
        plan = self.plan
        covered = plan is not None and has_alternative(plan, step.id)
        if phase == "step" and result.status in FAILED - {"declined"} and not covered:
            await self._escalations.escalate("failed", f"step {step.id} {result.status}: {result.detail}".rstrip(": "))
        return result

    async def _confirm_then_run(self, step: Step, phase: str, index: int | None, gate: dict[str, str]) -> ActionResult:
        manual = isinstance(step, ManualAction)
        if (step.confirm or manual) and not self._dry_run:
            if self._recorder.broken:
                return ActionResult(step.id, phase, "error", f"not started: {self._recorder.broken}")
            kind = "manual" if manual and not step.confirm else "destructive"
            describe = tuple(self.describe(step, phase))
            # A manual one's instruction as it will be carried out: placeholders filled, secrets masked.
            text = "\n".join(line.removeprefix("manual: ") for line in describe) if manual else step.title or step.id
            question = Question(
                kind, step.id, phase, step.title or step.id, text, DESTRUCTIVE_OPTIONS, describe, self.targets(step)
            )
            answer, by = await self._question(question)
            if answer != "yes":
                why = "needs confirmation; use --yes" if by == "no-tty" else "was not confirmed"
                if phase in CHECK_PHASES:
                    # A check nobody confirmed did not pass: journaled, so it blocks like a failure.
                    return await self._runner.refuse(step, phase, index, f"check {step.id} {why}", "declined")
                return ActionResult(step.id, phase, "declined", f"step {step.id} {why}")
            if manual:
                return await self._runner.run(step, phase, index, gate, confirmed_by=self._who(by))
        if self._hand_sent(step) and not self._dry_run and self._ask is not None and not self._yes:
            # Nothing here can send it: the operator sends the text and says so. Headless (or
            # --yes, which is no operator) it is printed and "printed, not sent".
            try:
                text = self._runner.executor("notify").message(step, self._runner.context(phase))  # type: ignore[attr-defined]
            except RenderError:
                return await self._runner.run(step, phase, index, gate)  # the step reports why it cannot render
            question = Question(
                "notify", step.id, phase, step.title or step.id, self._redact(text), DESTRUCTIVE_OPTIONS,
                tuple(self.describe(step, phase)), self.targets(step),
            )  # fmt: skip
            answer, by = await self._question(question)
            return await self._runner.run(
                step, phase, index, gate, confirmed_by=self._who(by) if answer == "yes" else ""
            )
        return await self._runner.run(step, phase, index, gate)

    def _who(self, by: str) -> str:
        """Who a "yes" came from, as the step's outcome names them ("confirmed by ...")."""
        return "--yes (nobody was asked)" if by == "--yes" else self.state.operator or "the operator"

    @staticmethod
    def _hand_sent(step: Step) -> bool:
        return isinstance(step, NotifyAction) and step.webhook is None and step.webhook_env is None

    async def skip_step(self, step_id: str, reason: str = "") -> None:
        index, _ = self._step(step_id)
        await self._recorder.emit(ev.STEP_SKIPPED, {"id": step_id, "phase": "step", "index": index, "reason": reason})

    async def _resolve_unknown(self, step: Step, phase: str) -> str | None:
        question = Question(
            "unknown", step.id, phase, step.title or step.id,
            f"step {step.id} was running when the session was interrupted; its outcome is unknown",
            UNKNOWN_OPTIONS, tuple(self.describe(step, phase)), self.targets(step),
        )  # fmt: skip
        answer, by = await self._question(question)
        if answer is not None:
            attempt = self.state.actions[(phase, step.id)].attempts
            await self._recorder.emit(
                ev.STEP_RESOLVED, {"id": step.id, "phase": phase, "attempt": attempt, "answer": answer, "by": by}
            )
        return answer

    async def run_plan(self) -> bool:
        """Run the pending steps in order, honouring ``on_failure``; True if all passed."""
        plan = self.plan
        if plan is None:
            raise SessionError("choose a plan first")
        self._stop_reason = ""
        self._refuse_past_blocking()
        self._runner.clear_abort()
        self._escalations.arm_overdue()  # a resumed session's plan clock still runs from its choice
        for index, step in enumerate(plan.steps):
            while not self._runner.aborted:
                if self._recorder.broken:
                    self._stop_reason = self._recorder.broken  # nothing more may run unrecorded
                    return False
                action = self.state.action("step", step.id)
                if action is not None and action.done:
                    break
                if action is not None and step.on_failure == "continue" and action.status not in _OPEN:
                    break  # it failed and the plan went on past it: resuming does not run it again
                if action is not None and action.status == "unknown":
                    answer = await self._resolve_unknown(step, "step")
                    if answer is None:
                        self._stop_reason = f"step {step.id} has an unknown outcome; resume with --yes to re-run it"
                        self.unanswered = True
                        return False
                    if answer != "rerun":
                        if answer == "failed":
                            self._stop_reason = f"step {step.id} failed (answered after the interruption)"
                            return False
                        break
                result = await self._confirm_and_run(step, "step", index)
                if result.finished:
                    break
                if self._recorder.broken:
                    continue  # no on_failure answer (retry, skip, continue) goes on past it
                if result.status == "declined":
                    self._stop_reason, self._declined = result.detail, True
                    return False
                decision = step.on_failure
                if decision == "ask":
                    question = Question(
                        "on_failure", step.id, "step", step.title or step.id,
                        f"step {step.id} {result.status}: {result.detail}", ON_FAILURE_OPTIONS,
                    )  # fmt: skip
                    decision = (await self._question(question))[0] or "stop"
                if decision == "retry":
                    continue
                if decision == "skip":
                    await self.skip_step(step.id, f"skipped after it {result.status}")
                    break
                if decision == "continue":
                    break
                self._stop_reason = f"step {step.id} {result.status}: {result.detail}".rstrip(": ")
                return False
            if self._runner.aborted:
                self._stop_reason = self._runner.aborted
                return False
        return all(a.done or a.status == "skipped" for a in self.state.in_phase("step")) and not self.pending_steps()

    @property
    def stop_reason(self) -> str:
        """Why :meth:`run_plan` stopped early (empty if it did not)."""
        return self._stop_reason

    async def run_actions(self, actions: Sequence[Step], phase: Phase) -> list[ActionResult]:
        """Run a list of actions in order (drill ``setup`` / ``teardown``); stops at the first failure."""
        results = []
        for index, action in enumerate(actions):
            result = await self._confirm_and_run(action, phase, index)
            results.append(result)
            if not result.finished and action.on_failure != "continue":
                break
        return results

    async def verify(self) -> list[ActionResult]:
        """Run the plan's ``verify`` checks in order."""
        plan = self.plan
        if plan is None:
            raise SessionError("choose a plan first")
        self._refuse_if_ended()
        self._refuse_past_unknown()
        self._runner.clear_abort()
        results = []
        for index, check in enumerate(plan.verify):
            if self._runner.aborted or self._recorder.broken:
                break
            gate = await self._gate(check, "verify", index)
            if isinstance(gate, ActionResult):
                result = gate
            else:
                result = await self._confirm_then_run(check, "verify", index, gate)
            await self._tick_from_check(result)
            if result.status in FAILED - {"declined"} and check.severity == "blocking":
                await self._escalations.escalate(
                    "failed", f"verification {check.id} {result.status}: {result.detail}".rstrip(": ")
                )
            results.append(result)
        return results

    # --- checklists, notes, end --------------------------------------------------------------

    async def tick(self, checklist: str, index: int, ticked: bool = True) -> None:
        items = getattr(self.runbook.checklists, checklist, None)
        if checklist not in ("pre", "during", "post", "followup") or items is None or not 0 <= index < len(items):
            raise SessionError(f"checklist {checklist!r} has no item {index + 1}")
        item = items[index]
        text = item if isinstance(item, str) else item.text
        await self._recorder.emit(
            ev.CHECKLIST_TICKED, {"list": checklist, "index": index, "text": text, "ticked": ticked, "by": "operator"}
        )

    def resume_clock(self) -> None:
        """A reopened session's overdue escalation, counted from the plan's choice as before."""
        if not self.read_only and not self.state.result:
            self._escalations.arm_overdue()

    async def answer_escalation(self, reason: str, answer: str) -> None:
        """Journal what the operator said when shown whom to call for ``reason``."""
        due = next((e for e in self.state.escalations if e.get("reason") == reason), None)
        if due is None:
            raise SessionError(f"no escalation is due for {reason!r}")
        if answer not in ev.ESCALATION_ANSWERS:
            raise SessionError(f"an escalation is answered {' or '.join(ev.ESCALATION_ANSWERS)}, not {answer!r}")
        if due.get("answer") is None:
            by = self.state.operator
            await self._recorder.emit(ev.ESCALATION_ANSWERED, {"reason": reason, "answer": answer, "by": by})

    async def note(self, text: str) -> None:
        if text.strip():
            await self._recorder.emit(ev.NOTE, {"text": text, "by": self.state.operator})

    def result(self) -> str:
        """The result the session would end with now: success | partial | failed | aborted, or
        dry_run for a dry run whose walk found no problem (a dry run is never a success)."""
        result = self._live_result()
        if self._dry_run and result in ("success", "partial"):
            return "dry_run"
        return result

    def _live_result(self) -> str:
        if self._recorder.broken:
            return "failed"  # the record can no longer be trusted to be whole
        plan = self.plan
        if self._runner.aborted or plan is None:
            return "aborted"
        steps = [self.state.action("step", s.id) for s in plan.steps]
        if any(a is not None and a.status == "aborted" for a in steps):
            return "aborted"  # its last attempt was aborted and nobody ran it again
        checks = [self.state.action("verify", c.id) for c in plan.verify]
        # A notification printed for the operator to send says so on its own line (record,
        # printer); the rollback itself is not the less done for it.
        handled = alternatives(self.state)  # the plan's alternative did the work
        failed = [
            a
            for a in steps
            if a is not None
            and a.status not in ("ok", "dry_run", "skipped", "pending", "not_sent")
            and a.id not in handled
        ]
        pending = self.not_run_steps()
        if any(a is not None and not a.done for a in checks):
            return "failed"
        went_on = {s.id for s in plan.steps if s.on_failure == "continue"} | {
            str(c.get("id"))
            for c in self.state.confirmations
            if (c.get("question"), c.get("answer")) == ("on_failure", "continue")
        }
        if (pending and failed) or any(a.status == "unknown" or a.id not in went_on for a in failed):
            return "failed"  # the plan stopped at a failed step: nothing partial about that
        if pending and self._declined:
            return "aborted"
        # A step skipped as written (its condition was false, an optional step not chosen) is the plan working.
        skipped = any(
            a is not None and a.status == "skipped" and a.skip_by not in ("condition", "optional") for a in steps
        )
        if failed or pending or skipped or any(a is None for a in checks) or self.state.overrides:
            return "partial"
        return "success"

    async def end(self, result: str | None = None, reason: str = "") -> str:
        """Journal ``session_ended`` (``result`` defaults to :meth:`result`) and return it."""
        result = result or self.result()
        if result not in RESULTS:
            raise SessionError(f"{result!r} is not a result ({', '.join(RESULTS)})")
        if self._dry_run and result == "success":
            result = "dry_run"  # nothing ran: whoever asks for success gets what happened
        if self.has_live_monitors and not self.state.result:
            try:
                await self.read_monitors("end")
            except Exception as exc:  # a blind monitor must not stop the session from ending
                await self._recorder.emit(
                    ev.WARNING, {"message": f"monitors not read at the end: {one_line(str(exc))}"}
                )
        started = self.state.started or time.time()
        reason = reason or self._runner.aborted or self.stop_reason or self._recorder.broken or ""
        if self._recorder.broken and self._recorder.broken not in reason:
            reason = f"{reason}; {self._recorder.broken}" if reason else self._recorder.broken
        problems = self.dry_run_problems() if result == "dry_run" else []
        if result == "dry_run" and not reason:
            reason = self._walked()
        if problems:
            reason = f"{reason}; {len(problems)} problem(s) a live run would stop on: {'; '.join(problems)}"
        plan_seconds = plan_window(self.state)

        def unrecorded_end(data: dict[str, Any]) -> dict[str, Any]:
            # Whatever happened, the journal does not say how it ended: that is a failure.
            return {**data, "result": "failed", "reason": f"{data['reason']}; {self._recorder.broken}".lstrip("; ")}

        event = await self._recorder.emit(
            ev.SESSION_ENDED,
            {
                "result": result,
                "reason": reason,
                "duration": round(time.time() - started, 3),
                "plan_seconds": None if plan_seconds is None else round(plan_seconds, 3),
                **({"problems": problems} if problems else {}),
            },
            unjournaled=unrecorded_end,
        )
        return str(event.data["result"])

    def dry_run_problems(self) -> list[str]:
        """What a dry run walked past that a live run would stop on (missing secrets, empty
        params, unresolvable DSNs, fenced targets), each once, in the order they were found."""
        found = [
            str(e.data.get("message", "")).removeprefix("dry run: ")
            for e in self.events
            if e.type == ev.WARNING and e.data.get("problem")
        ]
        return list(dict.fromkeys(found))

    def _walked(self) -> str:
        """What a dry run did: "walked 9 steps and 2 verifications, nothing executed"."""
        counts = [
            (len([a for a in self.state.in_phase(phase) if a.status == "dry_run"]), noun)
            for phase, noun in (("step", "step"), ("verify", "verification"))
        ]
        parts = [f"{n} {noun}{'s' if n != 1 else ''}" for n, noun in counts if n or noun == "step"]
        return f"walked {' and '.join(parts)}, nothing executed"

    # --- stopping -------------------------------------------------------------------------------

    def abort(self, reason: str = "aborted by the operator") -> None:
        """Stop the work under way (its commands are signalled). The next run, retry or
        verification the operator starts clears it; ending now ends "aborted"."""
        self._runner.abort(reason)

    @property
    def aborted(self) -> str | None:
        return self._runner.aborted

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._escalations.close()
        await self._runner.close()
        self._recorder.close()
        self._lock.release()
