"""Faults against the real sshd: dead links, floods, timeouts, aborts, and rolling fan-out that stops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.lab.sshd import Collector, SshLab, kill_sessions, lab_context, ssh_step
from tui.executors.ssh import SshExecutor

pytestmark = pytest.mark.lab

WAIT = 20.0  # upper bound for any condition a test waits on
FAN = ["alpha", "beta", "alpha2", "beta2"]


@pytest.fixture
async def executor() -> AsyncIterator[SshExecutor]:
    ex = SshExecutor()
    try:
        yield ex
    finally:
        await ex.close()


@pytest.fixture
def stopped_pids() -> Iterator[list[int]]:
    """Processes a test froze with SIGSTOP; killed afterwards whatever happened."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def start_and_wait(
    executor: SshExecutor, step: object, ssh_lab: SshLab, marker: str
) -> tuple[asyncio.Task, Collector]:
    """Start a step and return once ``marker`` has been printed by the remote command."""
    sink = Collector()
    seen = sink.seen(marker)
    task = asyncio.ensure_future(executor.run(step, lab_context(ssh_lab), sink))  # type: ignore[arg-type]
    waiter = asyncio.ensure_future(seen.wait())
    await asyncio.wait([task, waiter], timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    assert seen.is_set(), f"no {marker!r} from the remote command: {task.result() if task.done() else 'still running'}"
    return task, sink


async def test_sshd_child_killed_mid_step_is_unknown_never_ok(ssh_lab: SshLab, executor: SshExecutor) -> None:
    task, _ = await start_and_wait(executor, ssh_step("echo started; sleep 30; echo finished"), ssh_lab, "started")
    assert kill_sessions(ssh_lab.servers["alpha"])
    outcome = await asyncio.wait_for(task, WAIT)
    assert outcome.status == "unknown"
    assert outcome.hosts["alpha"].status == "unknown"
    assert outcome.exit_status is None
    assert "link lost" in outcome.detail
    # The next step gets a fresh connection.
    again = await executor.run(ssh_step("echo back"), lab_context(ssh_lab), Collector())
    assert again.status == "ok", again.detail


async def test_a_silent_dead_link_is_detected_by_keepalive(
    ssh_lab: SshLab, executor: SshExecutor, stopped_pids: list[int]
) -> None:
    ctx = lab_context(ssh_lab, keepalive=1)
    sink = Collector()
    seen = sink.seen("started")
    task = asyncio.ensure_future(executor.run(ssh_step("echo started; sleep 60", host="beta"), ctx, sink))
    await asyncio.wait_for(seen.wait(), WAIT)
    # Freeze the server side: the TCP link stays up but nothing answers, like a dead route.
    for pid in ssh_lab.servers["beta"].session_pids():
        os.kill(pid, signal.SIGSTOP)
        stopped_pids.append(pid)
    assert stopped_pids
    outcome = await asyncio.wait_for(task, WAIT)
    assert outcome.status == "unknown"


async def test_fifty_megabytes_stream_intact_in_bounded_memory(ssh_lab: SshLab, executor: SshExecutor) -> None:
    total, width = 50 * 1024 * 1024, 50
    run = f"yes {'x' * (width - 1)} | head -c {total}"
    sink = Collector()
    tracemalloc.start()
    try:
        outcome = await executor.run(ssh_step(run), lab_context(ssh_lab), sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.status == "ok", outcome.detail
    assert sink.chars[("alpha", "stdout")] == total
    assert sink.lines[("alpha", "stdout")] == total // width
    assert sink.text().endswith("x" * (width - 1) + "\n")
    assert sink.calls < total // 4096  # chunks, not lines
    assert peak < 16 * 1024 * 1024, f"peak Python memory {peak / 1e6:.1f} MB while streaming 50 MB"


async def test_timeout_stops_the_remote_command(ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path) -> None:
    flag = tmp_path / "terminated"
    run = f"trap 'echo term > {flag}; exit 143' TERM; echo ready; sleep 30 & wait"
    outcome = await executor.run(ssh_step(run, timeout=3), lab_context(ssh_lab), Collector())
    assert outcome.status == "timeout"
    assert outcome.hosts["alpha"].status == "timeout"
    assert flag.read_text() == "term\n"


async def test_abort_sends_the_remote_command_a_signal(ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path) -> None:
    flag = tmp_path / "aborted"
    run = f"trap 'echo term > {flag}; exit 143' TERM; echo ready; sleep 30 & wait"
    task, sink = await start_and_wait(executor, ssh_step(run), ssh_lab, "ready")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, WAIT)
    assert flag.read_text() == "term\n"
    assert "aborted" in sink.text(stream="info")
    # The connection stays usable for the next step.
    assert (await executor.run(ssh_step("true"), lab_context(ssh_lab), Collector())).status == "ok"


def fail_on_beta(ssh_lab: SshLab) -> str:
    """A command that fails on the beta server (and its alias beta2) and passes elsewhere."""
    return f'echo "on $SSH_CONNECTION"; [ "${{SSH_CONNECTION##* }}" != {ssh_lab.servers["beta"].port} ]'


async def test_rolling_batch_stops_after_a_failed_host(ssh_lab: SshLab, executor: SshExecutor) -> None:
    sink = Collector()
    outcome = await executor.run(ssh_step(fail_on_beta(ssh_lab), hosts=FAN, batch=1), lab_context(ssh_lab), sink)
    statuses = {name: host.status for name, host in outcome.hosts.items()}
    assert statuses == {"alpha": "ok", "beta": "failed", "alpha2": "skipped", "beta2": "skipped"}
    assert outcome.status == "failed"
    assert outcome.hosts["beta"].exit_status == 1
    assert sink.text("alpha2") == "" and sink.text("beta2") == ""
    alpha, beta = outcome.hosts["alpha"], outcome.hosts["beta"]
    assert beta.started >= alpha.started + alpha.duration - 0.01  # the second batch began after the first ended


async def test_rolling_batch_continues_when_told(ssh_lab: SshLab, executor: SshExecutor) -> None:
    step = ssh_step(fail_on_beta(ssh_lab), hosts=FAN, batch=2, on_failure="continue")
    outcome = await executor.run(step, lab_context(ssh_lab), Collector())
    statuses = {name: host.status for name, host in outcome.hosts.items()}
    assert statuses == {"alpha": "ok", "beta": "failed", "alpha2": "ok", "beta2": "failed"}
    assert outcome.status == "failed"
    assert outcome.summary == "2/4 hosts ok"


async def test_fan_out_over_a_group_all_at_once(ssh_lab: SshLab, executor: SshExecutor) -> None:
    ctx = lab_context(ssh_lab, groups={"fleet": FAN})
    sink = Collector()
    outcome = await executor.run(ssh_step("echo $SSH_CONNECTION", group="fleet"), ctx, sink)
    assert outcome.status == "ok", outcome.detail
    assert set(outcome.hosts) == set(FAN)
    ports = {name: sink.text(name).split()[3] for name in FAN}
    assert ports == {n: str(ssh_lab.servers[n.rstrip("2")].port) for n in FAN}
    assert len({sink.text(name).split()[1] for name in FAN}) == 4  # four separate connections
    assert executor.connections_opened == 4


async def test_one_lost_host_makes_the_fan_out_step_unknown(ssh_lab: SshLab, executor: SshExecutor) -> None:
    beta = ssh_lab.servers["beta"].port
    run = f'echo "up $SSH_CONNECTION"; [ "${{SSH_CONNECTION##* }}" != {beta} ] || sleep 30'
    step = ssh_step(run, hosts=["alpha", "beta"])
    task, _ = await start_and_wait(executor, step, ssh_lab, f"127.0.0.1 {beta}\n")
    assert kill_sessions(ssh_lab.servers["beta"])
    outcome = await asyncio.wait_for(task, WAIT)
    assert outcome.hosts["beta"].status == "unknown"
    assert outcome.hosts["alpha"].status == "ok"
    assert outcome.status == "unknown"
