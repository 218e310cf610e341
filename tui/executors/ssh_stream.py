"""Running one command on one SSH connection: bytes in 64 KiB chunks, whole lines out, a clear ending.

Output is read as bytes (a stray 0xFF must not break anything), cut at the last newline of
each chunk and decoded with replacement, so the sink gets whole lines in few calls. Splitting
only at ``\\n`` keeps every multi-byte UTF-8 character inside one piece. Reading line by line
(``async for line in process.stdout``) is ~35x slower and is avoided on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import asyncssh

from tui.executors.base import HostOutcome, OutputSink

CHUNK = 64 * 1024
MAX_PARTIAL = 1024 * 1024  # a "line" longer than this is passed on in pieces, so memory stays bounded
WINDOW = 8 * 1024 * 1024  # the most a host may send ahead of us: bounds memory, keeps the pipe full
KEEP_HEAD = 256 * 1024
KEEP_TAIL = 64 * 1024
TERM_GRACE = 2.0  # after TERM, how long the remote command gets to run its traps before the channel closes
PID_MARKER = b"\x1erbconsole-pid "
MARKER_WINDOW = 4096

# OpenSSH refuses the SSH "signal" request for root logins (no post-auth privilege separation),
# and a user's signal cannot reach a command under sudo. So the command first tells us its
# process group (the login shell leads it: sshd calls setsid), on stderr, and abort/timeout
# signal that group from a second channel, as OpenSSH itself would with killpg.
PID_PREFIX = "printf '\\036rbconsole-pid %s\\n' \"$$\" >&2; "


class Kept:
    """A bounded copy of one stream for ``capture``: the first KEEP_HEAD and last KEEP_TAIL characters."""

    def __init__(self) -> None:
        self.head: list[str] = []
        self.head_size = 0
        self.tail = ""
        self.dropped = False

    def add(self, text: str) -> None:
        if self.head_size < KEEP_HEAD:
            part = text[: KEEP_HEAD - self.head_size]
            self.head.append(part)
            self.head_size += len(part)
            text = text[len(part) :]
        if text:
            joined = self.tail + text
            self.dropped = self.dropped or len(joined) > KEEP_TAIL
            self.tail = joined[-KEEP_TAIL:]

    def text(self) -> str:
        gap = "\n" if self.dropped else ""
        return "".join(self.head) + gap + self.tail


@dataclass
class Streams:
    host: str
    sink: OutputSink
    keep: bool = False
    kept: dict[str, Kept] = field(default_factory=dict)
    lost: BaseException | None = None  # the link failed while reading
    pid: int | None = None  # the remote process group, once the command has announced it

    def _take_marker(self, data: bytes, final: bool) -> bytes | None:
        """``data`` without the pid line; None while the line may still be arriving."""
        at = data.find(PID_MARKER)
        end = data.find(b"\n", at) if at >= 0 else -1
        if end >= 0:
            digits = data[at + len(PID_MARKER) : end]
            self.pid = int(digits) if digits.isdigit() else None
            return data[:at] + data[end + 1 :]
        if final or len(data) > MARKER_WINDOW:
            return data
        return None

    async def pump(self, reader: asyncssh.SSHReader[bytes], stream: str, marker: bool = False) -> None:
        kept = self.kept.setdefault(stream, Kept()) if self.keep else None

        def emit(data: bytes) -> None:
            text = data.decode("utf-8", "replace")
            self.sink(self.host, stream, text)
            if kept is not None:
                kept.add(text)

        partial = b""
        try:
            while chunk := await reader.read(CHUNK):
                data = partial + chunk if partial else chunk
                partial = b""
                if marker:
                    rest = self._take_marker(data, final=False)
                    if rest is None:
                        partial = data
                        continue
                    data, marker = rest, False
                cut = data.rfind(b"\n") + 1
                if cut == 0 and len(data) < MAX_PARTIAL:
                    partial = data
                    continue
                emit(data[: cut or len(data)])
                partial = data[cut:] if cut else b""
        except (asyncssh.Error, OSError) as exc:
            self.lost = exc
        if marker and partial:
            partial = self._take_marker(partial, final=True) or b""
        if partial:
            # The command's last line had no newline: pass it on as it is, byte for byte.
            emit(partial)


async def _signal_group(conn: asyncssh.SSHClientConnection, pid: int, sudo: bool) -> bool:
    kill = f"{'sudo -n ' if sudo else ''}kill -TERM -- -{pid}"
    try:
        result = await asyncio.wait_for(conn.run(kill, stdin=asyncssh.DEVNULL), TERM_GRACE)
    except (TimeoutError, OSError, asyncssh.Error):
        return False
    return result.exit_status == 0


async def stop_after_loss(conn: asyncssh.SSHClientConnection, pid: int, sudo: bool) -> str:
    """Over a fresh connection, TERM the process group of a command whose link was lost; what
    happened, as the end of its host's detail."""
    kill = f"{'sudo -n ' if sudo else ''}kill -TERM -- -{pid}"
    try:
        result = await asyncio.wait_for(conn.run(kill, stdin=asyncssh.DEVNULL), TERM_GRACE * 5)
    except (TimeoutError, OSError, asyncssh.Error) as exc:
        return f"; reconnected but could not stop its process group {pid} ({exc or type(exc).__name__}): it may still be running"
    if result.exit_status == 0:
        return f"; sent TERM to its process group {pid} over a new connection"
    said = str(result.stderr or "").strip().splitlines()
    if said and "no such process" in said[-1].lower():
        return f"; over a new connection: its process group {pid} had already ended"
    return (
        f"; reconnected but kill failed ({said[-1] if said else f'exit {result.exit_status}'}): it may still be running"
    )


async def stop(
    conn: asyncssh.SSHClientConnection, process: asyncssh.SSHClientProcess[bytes], pid: int | None, sudo: bool
) -> None:
    """Send the remote command TERM, give it a moment for its traps, then close the channel."""
    if pid is None or not await _signal_group(conn, pid, sudo):
        with contextlib.suppress(OSError, asyncssh.Error):
            process.send_signal("TERM")
    with contextlib.suppress(TimeoutError, OSError, asyncssh.Error):
        await asyncio.wait_for(process.wait_closed(), TERM_GRACE)
    process.close()


def _ended(host: str, process: asyncssh.SSHClientProcess[bytes], streams: Streams, expect: int) -> HostOutcome:
    status = process.exit_status
    signal = process.exit_signal
    if status is None and signal is None:
        why = f": {streams.lost}" if streams.lost else ""
        return HostOutcome(host, "unknown", None, f"host {host}: link lost before the command finished{why}")
    if signal is not None:
        return HostOutcome(host, "failed", process.returncode, f"host {host}: killed by signal {signal[0]}")
    if status == expect:
        return HostOutcome(host, "ok", status)
    wanted = "" if expect == 0 else f" (expected {expect})"
    return HostOutcome(host, "failed", status, f"host {host}: exit status {status}{wanted}")


async def run_command(
    conn: asyncssh.SSHClientConnection,
    host: str,
    command: str,
    timeout: float,
    streams: Streams,
    expect_exit: int = 0,
    sudo: bool = False,
) -> HostOutcome:
    """Run ``command`` and stream it; a timeout stops it ("timeout"); a cancel stops it and re-raises.

    Raises asyncssh.ChannelOpenError / asyncssh.Error / OSError only when the command could not
    be started at all (the caller may reconnect and try once more: nothing ran). The caller
    stamps start and duration, which include connecting.
    """
    process = await conn.create_process(PID_PREFIX + command, encoding=None, window=WINDOW)
    process.stdin.write_eof()
    try:
        async with asyncio.timeout(timeout):
            async with asyncio.TaskGroup() as group:
                group.create_task(streams.pump(process.stdout, "stdout"))
                group.create_task(streams.pump(process.stderr, "stderr", marker=True))
            with contextlib.suppress(OSError, asyncssh.Error):
                await process.wait_closed()
    except TimeoutError:
        await stop(conn, process, streams.pid, sudo)
        return HostOutcome(host, "timeout", None, f"host {host}: no exit within {timeout:g} s; sent TERM")
    except asyncio.CancelledError:
        await stop(conn, process, streams.pid, sudo)
        streams.sink(host, "info", "aborted: sent TERM to the remote command and closed the channel\n")
        raise
    return _ended(host, process, streams, expect_exit)
