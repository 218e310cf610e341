"""The machinery under :class:`tui.engine.session.Session`: journaling events in order,
delivering them, and running one action (check or step) through its executor.

Kept apart from the session's public flow so each file reads in one sitting.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tui.engine import events as ev
from tui.engine.api import ActionResult, Ask, Question, SessionError, Subscriber
from tui.engine.branching import due_contacts
from tui.engine.drift import attempts_seconds, step_drift
from tui.engine.events import Event
from tui.engine.journal import Journal, JournalError
from tui.engine.lock import SessionLock
from tui.engine.output import OutputCollector
from tui.engine.redact import Redactor
from tui.engine.state import SessionState, apply
from tui.engine.values import Values, ValuesError
from tui.executors import executor_class
from tui.executors.base import ExecContext, Executor, Outcome, OutputSink
from tui.runbook.hosts import named
from tui.runbook.kinds import step_kind
from tui.runbook.model import Runbook, SshAction, Step
from tui.runbook.placeholders import Value
from tui.runbook.profiles import command_env
from tui.runbook.uses import action_names, secrets_needed, var_templates

CHECK_PHASES = ("pre", "verify")
# How an executor's describe() says a value cannot be resolved (each words it its own way).
UNRESOLVED = re.compile(r"cannot resolve(?: the webhook)?: (.+?)\)?$")
DEFAULT_TIMEOUT = 300.0


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SessionCore:
    def __init__(
        self,
        *,
        session_id: str,
        directory: Path,
        runbook: Runbook,
        runbook_path: str,
        values: Values,
        journal: Journal | None,
        lock: SessionLock,
        history: list[Event],
        ask: Ask | None,
        yes: bool,
        dry_run: bool,
        live: bool,
        headless: bool = False,
        with_steps: tuple[str, ...] = (),
    ) -> None:
        self.id = session_id
        self.dir = directory
        self.runbook = runbook
        self.runbook_path = runbook_path
        self.read_only = journal is None
        self.locked_by = lock.holder
        self._journal = journal
        self._lock = lock
        self._values = values
        self._scope: dict[str, Value] = values.scope
        self._redact = Redactor(values.secrets)
        self._ask = ask
        self._yes = yes
        self._dry_run = dry_run
        self._headless = headless
        self._with = frozenset(with_steps)
        self._events: list[Event] = []
        self._state = SessionState()
        self._seq = 0
        for event in history:
            self._take(event)
        if not live:
            for action in self._state.actions.values():
                if action.status == "running":
                    action.status = "unknown"
        self._subscribers: list[Subscriber] = []
        self._executors: dict[str, Executor] = {}
        self._running: set[asyncio.Task[Outcome]] = set()
        self._aborted: str | None = None
        self._stop_reason = ""
        self._declined = False  # the plan stopped because a confirmation was refused or impossible
        self.unanswered = False  # a question came up that nobody was there to answer
        self._emit_lock: asyncio.Lock | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._overdue: asyncio.TimerHandle | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._journal_ok = True
        # Why no further action may start: the journal (or an output file) cannot be written,
        # so whatever ran next would run unrecorded. Set once, never cleared in this process.
        self._broken: str | None = None
        self._closed = False
        # The runbook without the profile applied and the operator's --var values: what a
        # fenced session's targets are compared with (set by the opener).
        self.fence_source: tuple[Runbook, Mapping[str, str]] = (runbook, {})

    # --- events ------------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    @property
    def events(self) -> list[Event]:
        return list(self._events)

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def yes(self) -> bool:
        """Confirmations are answered by ``--yes``."""
        return self._yes

    @property
    def broken(self) -> str | None:
        """Why nothing more may run (the journal or an output file failed), or None."""
        return self._broken

    @property
    def redact(self) -> Callable[[str], str]:
        return self._redact

    def _read_only_reason(self) -> str:
        if self._state.result:
            return f"session {self.id} has ended ({self._state.result}); it is read-only"
        return f"session {self.id} is read-only (locked by {self.locked_by})"

    def _take(self, event: Event) -> None:
        self._events.append(event)
        self._seq = max(self._seq, event.seq)
        apply(self._state, event)

    def _deliver(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                continue

    def _make(self, kind: str, data: Mapping[str, Any]) -> Event:
        self._seq += 1
        return Event(self._seq, time.time(), kind, self._redact.data(dict(data)))

    def _record_now(self, kind: str, data: Mapping[str, Any]) -> Event:
        """Journal an event synchronously (session start and resume, before any loop runs)."""
        if self._journal is None:
            raise SessionError(self._read_only_reason())
        event = self._make(kind, data)
        try:
            self._journal.append(event)
        except JournalError as exc:
            self._lock.release()
            raise SessionError(str(exc)) from None
        self._take(event)
        self._deliver(event)
        return event

    async def _emit(
        self, kind: str, data: Mapping[str, Any], unjournaled: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    ) -> Event:
        """Journal ``kind`` and deliver it. If it cannot be journaled, ``unjournaled`` may say
        what the process then holds instead (the end of a session whose end is not on disk)."""
        if self._journal is None:
            raise SessionError(self._read_only_reason())
        if self._emit_lock is None:
            self._emit_lock = asyncio.Lock()
        warning: Event | None = None
        async with self._emit_lock:
            event = self._make(kind, data)
            if self._journal_ok:
                try:
                    await asyncio.get_running_loop().run_in_executor(self._pool, self._journal.append, event)
                except JournalError as exc:
                    self._journal_ok = False
                    message = self._redact(one_line(exc.strerror or str(exc)))
                    self._broken = self._broken or message
                    warning = Event(
                        event.seq, event.ts, ev.WARNING, {"message": message, "journal_failed": True, "at": kind}
                    )
                    if unjournaled is not None:
                        event = Event(event.seq, event.ts, kind, unjournaled(dict(event.data)))
            self._take(event)
            self._deliver(event)
            if warning is not None:
                # Kept in memory (not on disk, which just failed): the record written from this
                # process says the journal failed and where.
                self._take(warning)
                self._deliver(warning)
        return event

    def _output(self, phase: str, action_id: str, attempt: int) -> OutputSink:
        def forward(host: str, stream: str, text: str) -> None:
            if self._subscribers:
                data = {"id": action_id, "phase": phase, "attempt": attempt, "host": host, "stream": stream}
                self._deliver(Event(self._seq, time.time(), ev.OUTPUT, {**data, "text": text}))

        return forward

    # --- secrets for the chosen plan ------------------------------------------------------------

    def _read_secrets_for(self, plan_id: str) -> list[str]:
        """Read the secrets ``plan_id`` needs that the session has not read yet; returns the dry
        run's stand-in lines. Raises SessionError naming every secret that cannot be read."""
        meta = self._state.meta
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
        await self._emit(
            ev.CONFIRMATION,
            {"id": question.step_id, "phase": question.phase, "question": question.kind, "answer": answer, "by": by},
        )
        return answer, by

    # --- running one action -------------------------------------------------------------------

    def _executor(self, kind: str) -> Executor:
        executor = self._executors.get(kind)
        if executor is None:
            executor = self._executors[kind] = executor_class(kind)()
            if hasattr(executor, "poll"):
                executor.poll = self._poll  # type: ignore[attr-defined]
        return executor

    def _context(self, phase: str, confirmed: bool = False) -> ExecContext:
        return ExecContext(
            runbook=self.runbook,
            scope=MappingProxyType(self._scope),
            hosts=MappingProxyType(dict(self._values.hosts)),
            ssh=self._values.ssh,
            check_mode=phase in CHECK_PHASES,
            dry_run=self._dry_run,
            default_timeout=DEFAULT_TIMEOUT,
            redact=self._redact,
            confirmed=confirmed,
            env=self._command_env(),
        )

    def _command_env(self) -> dict[str, str | None]:
        """The environment local commands get on top of rbconsole's own: the profile's renamed
        variables, and the session's ssh_config and known_hosts, so an ``scp`` or ``ssh`` in a
        local step trusts the same host keys the ssh steps do."""
        env = command_env(self.runbook, self._state.meta.get("profile"))
        ssh = self._values.ssh
        for name, path, default in (
            ("RBCONSOLE_SSH_CONFIG", ssh.config, "~/.ssh/config"),
            ("RBCONSOLE_KNOWN_HOSTS", ssh.known_hosts, "~/.ssh/known_hosts"),
        ):
            # absolute: a local step runs in its own cwd, where a relative --ssh-config means nothing
            chosen = Path(path or default).expanduser().absolute()
            env[name] = str(chosen) if path or chosen.exists() else os.devnull
        return env

    def describe(self, action: Step, phase: str = "step") -> list[str]:
        """What ``action`` would run, resolved and with secrets masked."""
        try:
            return [self._redact(line) for line in self._executor(action.kind).describe(action, self._context(phase))]
        except Exception as exc:
            return [f"(cannot resolve: {one_line(self._redact(str(exc)))})"]

    async def _poll(self, check_id: str, sink: OutputSink) -> Outcome:
        """Run check ``check_id`` once for a ``wait`` step polling it."""
        check = self.runbook.check(check_id)
        if check is None:
            return Outcome("error", f"no check {check_id!r}")
        return await self._executor(check.kind).run(check, self._context("verify"), sink)

    @staticmethod
    def targets(action: Step) -> tuple[str, ...]:
        return named(action) if isinstance(action, SshAction) else (action.id,)

    async def _refuse(self, action: Step, phase: str, index: int | None, detail: str) -> ActionResult:
        """Journal ``action`` as started and ended in error without running it (e.g. its
        condition cannot be evaluated): the operator sees why, ``on_failure`` decides."""
        is_check = phase in CHECK_PHASES
        started, finished = (ev.CHECK_STARTED, ev.CHECK_FINISHED) if is_check else (ev.STEP_STARTED, ev.STEP_FINISHED)
        previous = self._state.action(phase, action.id)
        attempt = (previous.attempts if previous else 0) + 1
        base: dict[str, Any] = {"id": action.id, "title": action.title, "kind": action.kind, "phase": phase}
        if is_check:
            base["severity"] = action.severity
        if index is not None:
            base["index"] = index
        await self._emit(started, {**base, "attempt": attempt, "describe": [], "targets": self.targets(action)})
        return await self._finish(finished, base, attempt, Outcome("error", detail), None)

    async def _run_action(
        self,
        action: Step,
        phase: str,
        index: int | None = None,
        why: Mapping[str, str] | None = None,
        *,
        confirmed: bool = False,
    ) -> ActionResult:
        is_check = phase in CHECK_PHASES
        started, finished = (ev.CHECK_STARTED, ev.CHECK_FINISHED) if is_check else (ev.STEP_STARTED, ev.STEP_FINISHED)
        previous = self._state.action(phase, action.id)
        attempt = (previous.attempts if previous else 0) + 1
        describe = self.describe(action, phase)
        base: dict[str, Any] = {"id": action.id, "title": action.title, "kind": action.kind, "phase": phase}
        if is_check:
            base["severity"] = action.severity
        if index is not None:
            base["index"] = index
        if self._broken:
            return ActionResult(action.id, phase, "error", f"not started: {self._broken}")
        await self._emit(
            started,
            {
                **base,
                "attempt": attempt,
                "describe": describe,
                "confirm": action.confirm,
                "targets": self.targets(action),
                **({"condition": dict(why)} if why else {}),
            },
        )
        if self._broken:
            # Its start (or its confirmation) is not durably journaled: running it now would
            # be a step that happened with no trace on disk. It does not run.
            outcome = Outcome("error", f"not started: {self._broken}")
            return await self._finish(finished, base, attempt, outcome, None)
        if self._dry_run:
            # What a live run would stop on before it ran anything: an unresolvable value (an
            # unset dsn_env, a missing webhook variable) and a missing or empty value it uses.
            problems = [m.group(1) for line in describe if (m := UNRESOLVED.search(line))]
            for name in sorted(action_names(action, self.runbook)):
                value = self._scope.get(name)
                prose = step_kind(action.kind).prose  # an empty value in a message is harmless
                if value is not None and (value.missing or (value.empty and not prose)):
                    problems.append(value.missing or value.empty)
            for problem in dict.fromkeys(problems):
                # A rehearsal that walks past what would stop the real run must say so.
                message = f"dry run: {phase} {action.id} would stop: {problem}"
                await self._emit(ev.WARNING, {"message": message, "problem": True})
            # Nothing runs, so nothing is captured: later steps show where the value would go.
            stand_ins = {name: f"<{name} captured by {action.id}>" for name in action.capture}
            # A dry run decides nothing: it says what a live run would have decided on.
            would = (
                [f"optional: a live run asks ({action.ask or 'run this optional step?'})"] if action.optional else []
            )
            would += [f"runs only if {action.when}"] if action.when else []
            outcome = Outcome("ok", "; ".join(would), captured=stand_ins)
            return await self._finish(finished, base, attempt, outcome, None, dry_run=True)
        collector = OutputCollector(
            self.dir / "output", f"{phase}-{action.id}-{attempt}", self._redact, self._output(phase, action.id, attempt)
        )
        clock = time.monotonic()
        try:
            executor = self._executor(action.kind)
        except Exception as exc:  # a missing client library is this step's failure, not a crash
            outcome = Outcome("error", f"cannot load the {action.kind} executor: {one_line(str(exc))}")
            return await self._finish(finished, base, attempt, outcome, collector)
        task = asyncio.ensure_future(executor.run(action, self._context(phase, confirmed), collector))

        def output_failed(message: str) -> None:
            self._broken = self._broken or message
            task.cancel()  # its command is signalled: it must not go on with its output unkept

        collector.on_error = output_failed
        self._running.add(task)
        try:
            outcome = await task
        except asyncio.CancelledError:
            # Either abort() cancelled the executor or our caller was cancelled (Ctrl-C): both
            # wait for the executor to signal its command, and both are journaled as aborted;
            # or its output could not be written, which is its failure.
            if collector.error is not None:
                outcome = Outcome("error", collector.error)
            else:
                outcome = Outcome("aborted", self._aborted or "interrupted")
            outcome.duration = time.monotonic() - clock  # it ran until the abort, not for 0 s
            result = await self._finish(finished, base, attempt, outcome, collector)
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            return result
        except Exception as exc:
            outcome = Outcome("error", f"{type(exc).__name__}: {one_line(str(exc))}")
        finally:
            self._running.discard(task)
        # Not every kind times itself (a manual step, a notify without a webhook).
        outcome.duration = outcome.duration or time.monotonic() - clock
        return await self._finish(finished, base, attempt, outcome, collector)

    async def _finish(
        self,
        kind: str,
        base: dict[str, Any],
        attempt: int,
        outcome: Outcome,
        collector: OutputCollector | None,
        *,
        dry_run: bool = False,
    ) -> ActionResult:
        status = "dry_run" if dry_run else outcome.status
        excerpt: dict[str, str] = {}
        files: dict[str, str] = {}
        if collector is not None:
            await asyncio.get_running_loop().run_in_executor(None, collector.close)
            excerpt, files = collector.excerpts(), collector.files()
            if collector.error is not None:
                self._broken = self._broken or collector.error
                if status == "ok":
                    status, outcome.detail = "error", collector.error
        for name, text in outcome.captured.items():
            self._scope[name] = Value(text, stand_in=dry_run)
        hosts = {
            name: {
                "status": host.status,
                "exit_status": host.exit_status,
                "detail": one_line(host.detail),
                "started": host.started,
                "duration": round(host.duration, 3),
            }
            for name, host in outcome.hosts.items()
        }
        data = {
            **base,
            "attempt": attempt,
            "status": status,
            "detail": one_line(outcome.detail, 500),
            "exit_status": outcome.exit_status,
            "where": outcome.where,
            "duration": round(outcome.duration, 3),
            "summary": outcome.summary[:2000],
            "hosts": hosts,
            "captured": dict(outcome.captured),
            "excerpt": excerpt,
            "output": files,
        }
        if outcome.readings:
            data["readings"] = outcome.readings[:200]
        baselines = self._state.plan_event.get("baselines")
        if baselines and kind == ev.STEP_FINISHED and base["phase"] == "step" and status == "ok":
            seconds = attempts_seconds(self._state.action("step", base["id"]), time.time(), outcome.duration)
            found = step_drift(baselines, base["id"], int(base.get("index") or 0) + 1, seconds)
            if found is not None:
                data["drift"] = found
        await self._emit(kind, data)
        return ActionResult(
            base["id"], base["phase"], status, data["detail"], outcome.exit_status, outcome.duration, attempt
        )

    # --- escalation -----------------------------------------------------------------------------

    async def _escalate(self, reason: str, detail: str) -> None:
        """Journal that escalation is due (once per reason), naming whom to call in order."""
        if self._dry_run or self._journal is None or self._state.result or self._closed:
            return
        if any(e.get("reason") == reason for e in self._state.escalations):
            return
        contacts = due_contacts(self.runbook, reason)
        if contacts:
            drill = self._state.meta.get("mode") == "drill"  # a rehearsal names whom it would call
            await self._emit(
                ev.ESCALATION_DUE, {"reason": reason, "detail": detail, "contacts": contacts, "drill": drill}
            )

    def _arm_overdue(self) -> None:
        """Escalate when the chosen plan's target time (counted from its choice) passes."""
        plan = self.runbook.plans.get(self._state.plan or "")
        if self._overdue is not None or plan is None or not plan.target_minutes or self._dry_run:
            return
        if self._journal is None or not due_contacts(self.runbook, "overdue"):
            return
        chosen = float(self._state.plan_event.get("ts") or time.time())
        delay = max(0.0, chosen + plan.target_minutes * 60 - time.time())
        detail = f"plan {self._state.plan} passed its target of {plan.target_minutes:g} min"

        def due() -> None:
            task = asyncio.ensure_future(self._escalate("overdue", detail))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

        self._overdue = asyncio.get_running_loop().call_later(delay, due)

    # --- stopping -----------------------------------------------------------------------------------

    def abort(self, reason: str = "aborted by the operator") -> None:
        """Stop the work under way (its commands are signalled). The next run, retry or
        verification the operator starts clears it; ending now ends "aborted"."""
        self._aborted = reason
        for task in list(self._running):
            task.cancel()

    @property
    def aborted(self) -> str | None:
        return self._aborted

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._overdue is not None:
            self._overdue.cancel()
        for task in list(self._background):
            await asyncio.gather(task, return_exceptions=True)
        for executor in self._executors.values():
            try:
                await executor.close()
            except Exception:
                continue
        self._executors.clear()
        if self._journal is not None:
            self._journal.close()
        self._lock.release()
        self._pool.shutdown(wait=True)
