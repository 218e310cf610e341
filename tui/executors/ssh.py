"""The ssh executor: one command on one or many hosts, streamed, with rolling batches.

Hosts come from ``host`` / ``hosts`` / ``group``; ``batch = 0`` runs them all at once,
``batch = N`` runs N at a time and starts the next batch only when every host of the last
one passed (unless ``on_failure = "continue"``); hosts never reached are "skipped". Each host
keeps one connection for the executor's life, so later steps reuse it. A host whose link
died mid-command is "unknown" (the command may or may not have finished) and so is the step:
it is never reported "ok". ``capture`` reads the first host's output.

asyncssh is imported only when a step is described or run (``tui.executors.ssh_connect``,
``tui.executors.ssh_stream``), so loading this module and ``--version`` stay fast.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from typing import TYPE_CHECKING

from tui.executors.base import ExecContext, Executor, HostOutcome, Outcome, OutputSink, Status
from tui.executors.capture import CaptureError, capture_values
from tui.runbook.hosts import fan_out
from tui.runbook.model import SshAction, SshSettings, Step
from tui.runbook.placeholders import RenderError, render_shell

if TYPE_CHECKING:
    from tui.executors.ssh_connect import Pool, Target
    from tui.executors.ssh_stream import Streams

# When hosts disagree, the step takes the most alarming outcome.
_WORST: tuple[Status, ...] = ("unknown", "timeout", "failed", "error", "skipped")


def command_for(action: SshAction, ctx: ExecContext) -> str:
    """The remote command line: values shell-quoted; with ``sudo`` the whole line runs under ``sudo -n sh -c``."""
    command = render_shell(action.run, ctx.scope)
    if action.sudo:
        # -n: never wait for a password prompt nobody will answer.
        command = f"sudo -n -- sh -c {shlex.quote(command)}"
    return command


def _overall(outcomes: dict[str, HostOutcome]) -> Status:
    statuses = {o.status for o in outcomes.values()}
    if statuses <= {"ok"}:
        return "ok"
    return next(s for s in _WORST if s in statuses)


class SshExecutor(Executor):
    def __init__(self) -> None:
        # One pool per ssh settings: a connection checked under one known_hosts is never reused under another.
        self._pools: dict[SshSettings, Pool] = {}

    @property
    def connections_opened(self) -> int:
        """How many SSH connections this executor has made (jumps included)."""
        return sum(pool.opened for pool in self._pools.values())

    def _pool_for(self, settings: SshSettings) -> Pool:
        from tui.executors.ssh_connect import Pool

        if settings not in self._pools:
            self._pools[settings] = Pool(settings)
        return self._pools[settings]

    def describe(self, action: Step, ctx: ExecContext) -> list[str]:
        from tui.executors.ssh_connect import ConnectError, resolve

        assert isinstance(action, SshAction)
        try:
            command = command_for(action, ctx)
        except RenderError as exc:
            return [ctx.redact(f"step {action.id}: {exc}")]
        lines = []
        for name in fan_out(action, ctx.runbook):
            try:
                where = resolve(name, ctx.hosts, ctx.ssh).where
            except ConnectError as exc:
                where = f"({exc})"
            lines.append(ctx.redact(f"[{name}] {where} $ {command}"))
        return lines

    async def run(self, action: Step, ctx: ExecContext, sink: OutputSink) -> Outcome:
        from tui.executors.ssh_connect import ConnectError

        assert isinstance(action, SshAction)
        clock = time.monotonic()
        names = fan_out(action, ctx.runbook)
        if not names:
            return Outcome("error", detail=f"step {action.id}: no hosts (group {action.group!r} is empty)")
        try:
            command = command_for(action, ctx)
        except RenderError as exc:
            return Outcome("error", detail=ctx.redact(f"step {action.id}: {exc}"))
        if ctx.dry_run:
            for line in self.describe(action, ctx):
                sink("local", "info", line + "\n")
            return Outcome("skipped", detail="dry run")
        pool = self._pool_for(ctx.ssh)
        try:
            await pool.refresh_known_hosts()
            targets = await asyncio.to_thread(pool.resolve_all, names, ctx.hosts)
        except ConnectError as exc:
            return Outcome("error", detail=ctx.redact(str(exc)))

        from tui.executors.ssh_stream import Streams

        timeout = action.timeout or ctx.default_timeout
        streams = {n: Streams(n, sink, keep=bool(action.capture) and n == names[0]) for n in names}
        size = action.batch or len(names)
        outcomes: dict[str, HostOutcome] = {}
        for start in range(0, len(names), size):
            batch = names[start : start + size]
            async with asyncio.TaskGroup() as group:
                tasks = {
                    n: group.create_task(self._on_host(pool, targets[n], command, timeout, streams[n], action, ctx))
                    for n in batch
                }
            outcomes.update({n: t.result() for n, t in tasks.items()})
            if action.on_failure != "continue" and any(outcomes[n].status != "ok" for n in batch):
                for name in names[start + size :]:
                    outcomes[name] = HostOutcome(
                        name, "skipped", detail=f"host {name}: not run (an earlier batch failed)"
                    )
                break
        return self._outcome(action, ctx, names, outcomes, streams, time.monotonic() - clock)

    async def _on_host(
        self,
        pool: Pool,
        target: Target,
        command: str,
        timeout: float,
        streams: Streams,
        action: SshAction,
        ctx: ExecContext,
    ) -> HostOutcome:
        import asyncssh

        from tui.executors.ssh_connect import ConnectError
        from tui.executors.ssh_stream import run_command

        name = target.name
        started, clock = time.time(), time.monotonic()
        # Nothing has run until the channel opens, so a connection found dead then is replaced once.
        for attempt in (1, 2):
            try:
                conn = await pool.get(target)
                outcome = await run_command(conn, name, command, timeout, streams, action.expect_exit, action.sudo)
                if outcome.status == "unknown":
                    outcome.detail += await self._stop_after_loss(pool, target, streams.pid, action.sudo)
                    streams.sink(name, "info", outcome.detail + "\n")
                # The host's time includes connecting: that is part of what the step cost there.
                outcome.started, outcome.duration = started, time.monotonic() - clock
                return outcome
            except ConnectError as exc:
                detail = ctx.redact(str(exc))
            except (asyncssh.Error, OSError) as exc:
                pool.forget(target)
                detail = ctx.redact(f"host {name}: could not start the command: {exc}")
                if attempt == 1:
                    continue
            streams.sink(name, "info", detail + "\n")
            break
        return HostOutcome(name, "error", None, detail, started, time.monotonic() - clock)

    @staticmethod
    async def _stop_after_loss(pool: Pool, target: Target, pid: int | None, sudo: bool) -> str:
        """The link died mid-command: the command may run on, so a new connection stops it."""
        from tui.executors.ssh_connect import ConnectError
        from tui.executors.ssh_stream import stop_after_loss

        if pid is None:
            return "; its process id never arrived, so it could not be stopped: it may still be running"
        pool.forget(target)
        try:
            conn = await pool.get(target)
        except ConnectError as exc:
            return f"; could not reconnect to stop it ({exc}): it may still be running"
        return await stop_after_loss(conn, pid, sudo)

    def _outcome(
        self,
        action: SshAction,
        ctx: ExecContext,
        names: list[str],
        outcomes: dict[str, HostOutcome],
        streams: dict[str, Streams],
        duration: float,
    ) -> Outcome:
        status = _overall(outcomes)
        bad = [outcomes[n] for n in names if outcomes[n].status != "ok"]
        ok_count = len(names) - len(bad)
        if len(names) == 1:
            detail = outcomes[names[0]].detail
        else:
            detail = "; ".join(o.detail or f"host {o.host}: {o.status}" for o in bad[:5])
            if len(bad) > 5:
                detail += f"; and {len(bad) - 5} more"
        exit_status = bad[0].exit_status if bad else outcomes[names[0]].exit_status
        outcome = Outcome(
            status,
            detail=detail,
            exit_status=exit_status,
            duration=duration,
            hosts=outcomes,
            summary=f"{ok_count}/{len(names)} hosts ok",
        )
        if action.capture and status == "ok":
            kept = streams[names[0]].kept
            try:
                outcome.captured = capture_values(
                    action.capture,
                    kept["stdout"].text() if "stdout" in kept else "",
                    stderr=kept["stderr"].text() if "stderr" in kept else "",
                )
            except CaptureError as exc:
                outcome.status = "failed"
                outcome.detail = ctx.redact(f"step {action.id}: {exc}")
        return outcome

    async def close(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.close()
