"""Running one action (a check or a step) through its executor, journaled start to end.

The :class:`Runner` is the session's hands: it renders nothing itself (the executors do), it
journals ``*_started`` before anything runs and ``*_finished`` with the outcome, keeps the
output on disk, and stops everything under way on :meth:`Runner.abort`. What runs next, and
whether to ask first, is the session's to decide (:mod:`tui.engine.session`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tui.engine import events as ev
from tui.engine.api import CHECK_PHASES, ActionResult
from tui.engine.drift import attempts_seconds, step_drift
from tui.engine.events import Event
from tui.engine.output import OutputCollector
from tui.engine.recorder import Recorder, one_line
from tui.engine.redact import Redactor
from tui.engine.values import Values
from tui.executors import executor_class
from tui.executors.base import ExecContext, Executor, Outcome, OutputSink, Status
from tui.runbook.hosts import named
from tui.runbook.kinds import step_kind
from tui.runbook.model import Runbook, SshAction, Step
from tui.runbook.placeholders import Value
from tui.runbook.profiles import command_env
from tui.runbook.uses import action_names

# How an executor's describe() says a value cannot be resolved (each words it its own way).
UNRESOLVED = re.compile(r"cannot resolve(?: the webhook)?: (.+?)\)?$")
DEFAULT_TIMEOUT = 300.0

log = logging.getLogger(__name__)


class Runner:
    """Runs the actions of one session; ``values.scope`` gets what they capture."""

    def __init__(
        self, runbook: Runbook, recorder: Recorder, values: Values, redact: Redactor, directory: Path, *, dry_run: bool
    ) -> None:
        self.runbook = runbook
        self._recorder = recorder
        self._values = values
        self._scope: dict[str, Value] = values.scope
        self._redact = redact
        self._dir = directory
        self._dry_run = dry_run
        self._executors: dict[str, Executor] = {}
        self._running: set[asyncio.Task[Outcome]] = set()
        self._aborted: str | None = None

    def _output(self, phase: str, action_id: str, attempt: int) -> OutputSink:
        def forward(host: str, stream: str, text: str) -> None:
            if self._recorder.listened:
                data = {"id": action_id, "phase": phase, "attempt": attempt, "host": host, "stream": stream}
                self._recorder.deliver(Event(self._recorder.seq, time.time(), ev.OUTPUT, {**data, "text": text}))

        return forward

    def executor(self, kind: str) -> Executor:
        executor = self._executors.get(kind)
        if executor is None:
            executor = self._executors[kind] = executor_class(kind)()
            if hasattr(executor, "poll"):
                executor.poll = self._poll  # type: ignore[attr-defined]
        return executor

    def context(self, phase: str, confirmed_by: str = "") -> ExecContext:
        return ExecContext(
            runbook=self.runbook,
            scope=MappingProxyType(self._scope),
            hosts=MappingProxyType(dict(self._values.hosts)),
            ssh=self._values.ssh,
            check_mode=phase in CHECK_PHASES,
            dry_run=self._dry_run,
            default_timeout=DEFAULT_TIMEOUT,
            redact=self._redact,
            confirmed_by=confirmed_by,
            env=self._command_env(),
        )

    def _command_env(self) -> dict[str, str | None]:
        """The environment local commands get on top of rbconsole's own: the profile's renamed
        variables, and the session's ssh_config and known_hosts, so an ``scp`` or ``ssh`` in a
        local step trusts the same host keys the ssh steps do."""
        env = command_env(self.runbook, self._recorder.state.meta.get("profile"))
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
            return [self._redact(line) for line in self.executor(action.kind).describe(action, self.context(phase))]
        except Exception as exc:
            return [f"(cannot resolve: {one_line(self._redact(str(exc)))})"]

    async def _poll(self, check_id: str, sink: OutputSink) -> Outcome:
        """Run check ``check_id`` once for a ``wait`` step polling it."""
        check = self.runbook.check(check_id)
        if check is None:
            return Outcome("error", f"no check {check_id!r}")
        return await self.executor(check.kind).run(check, self.context("verify"), sink)

    @staticmethod
    def targets(action: Step) -> tuple[str, ...]:
        return named(action) if isinstance(action, SshAction) else (action.id,)

    async def refuse(
        self, action: Step, phase: str, index: int | None, detail: str, status: Status = "error"
    ) -> ActionResult:
        """Journal ``action`` as started and ended in ``status`` without running it (its
        condition cannot be evaluated, nobody confirmed a manual check): the operator sees why,
        ``on_failure`` decides."""
        is_check = phase in CHECK_PHASES
        started, finished = (ev.CHECK_STARTED, ev.CHECK_FINISHED) if is_check else (ev.STEP_STARTED, ev.STEP_FINISHED)
        previous = self._recorder.state.action(phase, action.id)
        attempt = (previous.attempts if previous else 0) + 1
        base: dict[str, Any] = {"id": action.id, "title": action.title, "kind": action.kind, "phase": phase}
        if is_check:
            base["severity"] = action.severity
        if index is not None:
            base["index"] = index
        await self._recorder.emit(
            started, {**base, "attempt": attempt, "describe": [], "targets": self.targets(action)}
        )
        return await self._finish(finished, base, attempt, Outcome(status, detail), None)

    async def run(
        self,
        action: Step,
        phase: str,
        index: int | None = None,
        why: Mapping[str, str] | None = None,
        *,
        confirmed_by: str = "",
    ) -> ActionResult:
        is_check = phase in CHECK_PHASES
        started, finished = (ev.CHECK_STARTED, ev.CHECK_FINISHED) if is_check else (ev.STEP_STARTED, ev.STEP_FINISHED)
        previous = self._recorder.state.action(phase, action.id)
        attempt = (previous.attempts if previous else 0) + 1
        describe = self.describe(action, phase)
        base: dict[str, Any] = {"id": action.id, "title": action.title, "kind": action.kind, "phase": phase}
        if is_check:
            base["severity"] = action.severity
        if index is not None:
            base["index"] = index
        if self._recorder.broken:
            return ActionResult(action.id, phase, "error", f"not started: {self._recorder.broken}")
        await self._recorder.emit(
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
        if self._recorder.broken:
            # Its start (or its confirmation) is not durably journaled: running it now would
            # be a step that happened with no trace on disk. It does not run.
            outcome = Outcome("error", f"not started: {self._recorder.broken}")
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
                await self._recorder.emit(ev.WARNING, {"message": message, "problem": True})
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
            self._dir / "output",
            f"{phase}-{action.id}-{attempt}",
            self._redact,
            self._output(phase, action.id, attempt),
        )
        clock = time.monotonic()
        try:
            executor = self.executor(action.kind)
        except Exception as exc:  # a missing client library is this step's failure, not a crash
            outcome = Outcome("error", f"cannot load the {action.kind} executor: {one_line(str(exc))}")
            return await self._finish(finished, base, attempt, outcome, collector)
        task = asyncio.ensure_future(executor.run(action, self.context(phase, confirmed_by), collector))

        def output_failed(message: str) -> None:
            self._recorder.mark_broken(message)
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
                self._recorder.mark_broken(collector.error)
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
        baselines = self._recorder.state.plan_event.get("baselines")
        if baselines and kind == ev.STEP_FINISHED and base["phase"] == "step" and status == "ok":
            seconds = attempts_seconds(self._recorder.state.action("step", base["id"]), time.time(), outcome.duration)
            found = step_drift(baselines, base["id"], int(base.get("index") or 0) + 1, seconds)
            if found is not None:
                data["drift"] = found
        await self._recorder.emit(kind, data)
        return ActionResult(
            base["id"], base["phase"], status, data["detail"], outcome.exit_status, outcome.duration, attempt
        )

    # --- stopping -------------------------------------------------------------------------------

    def abort(self, reason: str) -> None:
        """Stop the work under way: its executors are cancelled (their commands signalled)."""
        self._aborted = reason
        for task in list(self._running):
            task.cancel()

    @property
    def aborted(self) -> str | None:
        """Why the work was last aborted (None once the next work starts, see :meth:`clear_abort`)."""
        return self._aborted

    def clear_abort(self) -> None:
        self._aborted = None

    async def close(self) -> None:
        for kind, executor in self._executors.items():
            try:
                await executor.close()
            except Exception:  # closing a client must not stop the session from closing
                log.exception("session %s: closing the %s executor failed", self._recorder.session_id, kind)
        self._executors.clear()
