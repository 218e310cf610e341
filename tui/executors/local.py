"""``local``: a shell command on the bastion itself, streamed as it runs.

The command runs in its own process group so a timeout or an abort reaches everything it
started (TERM, then KILL after a grace period). Output is read in 64 KiB chunks and split
into whole lines here: reading line by line is an order of magnitude slower on a flood.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping

from tui.executors.base import ExecContext, Executor, HostOutcome, Outcome, OutputSink
from tui.executors.capture import CaptureError, capture_values
from tui.runbook.model import LocalAction, Step
from tui.runbook.placeholders import RenderError, render_shell, render_text

CHUNK = 64 * 1024
CAPTURE_KEEP = 1024 * 1024  # captures read the end of the output ("stdout" = its last line)
KILL_GRACE = 3.0
HOST = "local"


class _Stream:
    """Whole lines from one pipe to the sink, with a bounded tail kept for captures."""

    def __init__(self, name: str, sink: OutputSink) -> None:
        self.name = name
        self.sink = sink
        self.kept = bytearray()
        self._partial = b""

    def feed(self, data: bytes) -> None:
        data = self._partial + data
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        if cut:
            self._emit(data[:cut])
        if len(self._partial) > CAPTURE_KEEP:  # a "line" of a megabyte: pass it on as it is
            self._emit(self._partial)
            self._partial = b""

    def finish(self) -> None:
        if self._partial:
            self._emit(self._partial + b"\n")
            self._partial = b""

    def _emit(self, block: bytes) -> None:
        self.kept += block
        if len(self.kept) > 2 * CAPTURE_KEEP:
            del self.kept[:-CAPTURE_KEEP]
        self.sink(HOST, self.name, block.decode("utf-8", errors="replace"))

    def text(self) -> str:
        return bytes(self.kept[-CAPTURE_KEEP:]).decode("utf-8", errors="replace")


async def _pump(reader: asyncio.StreamReader, stream: _Stream) -> None:
    while chunk := await reader.read(CHUNK):
        stream.feed(chunk)
    stream.finish()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _environment(renamed: Mapping[str, str | None]) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in renamed.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class LocalExecutor(Executor):
    def _command(self, action: LocalAction, ctx: ExecContext) -> tuple[str, str | None]:
        command = render_shell(action.run, ctx.scope)
        cwd = os.path.expanduser(render_text(action.cwd, ctx.scope)) if action.cwd else None
        return command, cwd

    def describe(self, action: Step, ctx: ExecContext) -> list[str]:
        assert isinstance(action, LocalAction)
        command, cwd = self._command(action, ctx)
        return [f"local{f' (in {cwd})' if cwd else ''} $ {command}"]

    async def run(self, action: Step, ctx: ExecContext, sink: OutputSink) -> Outcome:
        assert isinstance(action, LocalAction)
        started = time.time()
        clock = time.monotonic()
        try:
            command, cwd = self._command(action, ctx)
        except RenderError as exc:
            return Outcome("error", str(exc))
        timeout = action.timeout or ctx.default_timeout
        spawn = asyncio.ensure_future(
            asyncio.create_subprocess_exec(
                "/bin/sh",
                "-c",
                command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=cwd,
                start_new_session=True,
                env=_environment(ctx.env) if ctx.env else None,
            )
        )
        try:
            process = await asyncio.shield(spawn)
        except OSError as exc:
            return Outcome("error", f"cannot start the command: {exc.strerror or exc}")
        except asyncio.CancelledError:
            # An abort while the process is being created: let it finish being created, then
            # stop it, rather than leave a command running that nobody waits for.
            with contextlib.suppress(OSError):
                await self._stop(await spawn)
            raise
        assert process.stdout is not None and process.stderr is not None
        out, err = _Stream("stdout", sink), _Stream("stderr", sink)
        pumps = [asyncio.create_task(_pump(process.stdout, out)), asyncio.create_task(_pump(process.stderr, err))]
        status, detail = "ok", ""
        try:
            async with asyncio.timeout(timeout):
                await process.wait()
        except TimeoutError:
            status, detail = "timeout", f"timed out after {timeout:g}s"
            await self._stop(process)
        except asyncio.CancelledError:
            await self._stop(process)
            await self._drain(pumps)
            raise
        await self._drain(pumps)
        duration = time.monotonic() - clock
        code = process.returncode
        if status == "ok" and code != action.expect_exit:
            status = "failed"
            detail = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            if action.expect_exit:
                detail += f" (expected {action.expect_exit})"
        captured: dict[str, str] = {}
        if status == "ok" and action.capture:
            try:
                captured = capture_values(action.capture, out.text(), stderr=err.text())
            except CaptureError as exc:
                status, detail = "failed", str(exc)
        host = HostOutcome(HOST, status, code, detail, started, duration)  # type: ignore[arg-type]
        return Outcome(status, detail, code, duration, captured, {HOST: host})  # type: ignore[arg-type]

    @staticmethod
    async def _stop(process: asyncio.subprocess.Process) -> None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(KILL_GRACE):
                await process.wait()
        except TimeoutError:
            _signal_group(process.pid, signal.SIGKILL)
            await process.wait()

    @staticmethod
    async def _drain(pumps: list[asyncio.Task[None]]) -> None:
        # A command that started a daemon without redirecting its output leaves the pipe open
        # after it exits; don't wait for the daemon, keep what arrived.
        _, pending = await asyncio.wait(pumps, timeout=1.0)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
