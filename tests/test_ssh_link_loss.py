"""A link lost mid-command, through a small TCP proxy in front of the lab sshd (reset: RST on
both sides; blackhole: the connection stays open and carries nothing): the step is unknown,
and rbconsole stops the remote process group over a fresh connection and says so. The command
is gone from the host within 30 s of the step being declared unknown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.lab.sshd import Collector, SshLab, lab_context, ssh_step
from tui.executors.ssh import SshExecutor

pytestmark = pytest.mark.lab

WAIT = 30.0


class Proxy:
    """127.0.0.1:port -> the target; ``fault()`` breaks every connection open now (later ones pass)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.links: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter, asyncio.Event]] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        silent = asyncio.Event()
        self.links.append((writer, up_writer, silent))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    if silent.is_set():
                        continue  # blackholed: read and drop, so nothing backs up or closes
                    dst.write(data)
                    await dst.drain()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def fault(self, kind: str) -> int:
        broken = 0
        for down, up, silent in self.links:
            if kind == "blackhole":
                silent.set()
            else:
                for writer in (down, up):
                    sock = writer.get_extra_info("socket")
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
            broken += 1
        self.links.clear()
        return broken

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for down, up, _ in self.links:
            down.transport.abort()
            up.transport.abort()


@pytest.fixture
async def executor() -> AsyncIterator[SshExecutor]:
    ex = SshExecutor()
    try:
        yield ex
    finally:
        await ex.close()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("kind", ["reset", "blackhole"])
async def test_a_lost_link_stops_the_remote_command(
    kind: str, ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path
) -> None:
    alpha = ssh_lab.servers["alpha"]
    proxy = Proxy(alpha.port)
    await proxy.start()
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host viaproxy\n  HostName 127.0.0.1\n  Port {proxy.port}\n  HostKeyAlias [127.0.0.1]:{alpha.port}\n"
        + ssh_lab.config.read_text()
    )
    ctx = lab_context(ssh_lab, config=config, hosts={"viaproxy": {"address": "viaproxy"}}, keepalive=1)
    pidfile = tmp_path / "pid"
    run = f"echo $$ > {pidfile}; echo started; sleep 300; echo finished"
    sink = Collector()
    seen = sink.seen("started")
    task = asyncio.ensure_future(executor.run(ssh_step(run, host="viaproxy"), ctx, sink))
    try:
        await asyncio.wait_for(seen.wait(), WAIT)
        pgid = int(pidfile.read_text())
        assert _group_alive(pgid)
        assert proxy.fault(kind) == 1
        outcome = await asyncio.wait_for(task, WAIT)
        declared = time.monotonic()
        assert outcome.status == "unknown", outcome.detail
        assert "link lost before the command finished" in outcome.detail
        assert f"sent TERM to its process group {pgid} over a new connection" in outcome.detail, outcome.detail
        while _group_alive(pgid):
            assert time.monotonic() - declared < 30, "the remote command still runs 30 s after the step was unknown"
            await asyncio.sleep(0.1)
        print(f"\n{kind}: remote command gone {time.monotonic() - declared:.1f} s after the step was unknown")
        assert "finished" not in sink.text()
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        await proxy.stop()
