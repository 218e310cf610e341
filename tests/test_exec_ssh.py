"""The ssh executor against the lab's real sshd: running, streaming, quoting, reuse, describe."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.lab.sshd import Collector, SshLab, lab_context, ssh_step
from tui.executors import executor_class
from tui.executors.ssh import SshExecutor
from tui.executors.ssh_connect import Target, keepalive
from tui.runbook.model import SshSettings
from tui.runbook.placeholders import Value

pytestmark = pytest.mark.lab


@pytest.fixture
async def executor() -> AsyncIterator[SshExecutor]:
    ex = SshExecutor()
    try:
        yield ex
    finally:
        await ex.close()


def client_port(text: str) -> tuple[str, str]:
    """(client port, server port) from an ``echo $SSH_CONNECTION`` line."""
    fields = text.split()
    return fields[1], fields[3]


def test_registry_finds_the_ssh_executor() -> None:
    assert executor_class("ssh") is SshExecutor


async def test_runs_a_command_and_streams_both_streams(ssh_lab: SshLab, executor: SshExecutor) -> None:
    sink = Collector()
    outcome = await executor.run(ssh_step("echo hello; echo oops >&2"), lab_context(ssh_lab), sink)
    assert outcome.status == "ok", outcome.detail
    assert outcome.exit_status == 0
    assert sink.text() == "hello\n"
    assert sink.text(stream="stderr") == "oops\n"
    host = outcome.hosts["alpha"]
    assert (host.status, host.exit_status) == ("ok", 0)
    assert host.started > 0 and host.duration > 0


async def test_non_zero_exit_fails_and_names_the_host(ssh_lab: SshLab, executor: SshExecutor) -> None:
    outcome = await executor.run(ssh_step("exit 3"), lab_context(ssh_lab), Collector())
    assert outcome.status == "failed"
    assert outcome.exit_status == 3
    assert "alpha" in outcome.detail and "3" in outcome.detail


async def test_expect_exit_accepts_the_expected_status(ssh_lab: SshLab, executor: SshExecutor) -> None:
    outcome = await executor.run(ssh_step("exit 3", expect_exit=3), lab_context(ssh_lab), Collector())
    assert outcome.status == "ok"


async def test_output_arrives_as_chunks_of_whole_lines(ssh_lab: SshLab, executor: SshExecutor) -> None:
    pieces: list[str] = []
    outcome = await executor.run(
        ssh_step("seq 1 200000"), lab_context(ssh_lab), lambda host, stream, text: pieces.append(text)
    )
    assert outcome.status == "ok"
    text = "".join(pieces)
    assert text == "".join(f"{n}\n" for n in range(1, 200001))
    assert all(piece.endswith("\n") for piece in pieces)
    assert len(pieces) < 200  # ~1.3 MB in 64 KiB reads, not one call per line


async def test_a_last_line_without_newline_arrives_as_is(ssh_lab: SshLab, executor: SshExecutor) -> None:
    sink = Collector()
    await executor.run(ssh_step("printf 'one\\ntwo'"), lab_context(ssh_lab), sink)
    assert sink.text() == "one\ntwo"


async def test_non_utf8_output_is_replaced_and_the_link_survives(ssh_lab: SshLab, executor: SshExecutor) -> None:
    sink = Collector()
    ctx = lab_context(ssh_lab)
    outcome = await executor.run(ssh_step("printf 'a\\377b\\n'; printf '\\377' >&2; echo after"), ctx, sink)
    assert outcome.status == "ok"
    assert sink.text() == "a\ufffdb\nafter\n"
    assert sink.text(stream="stderr") == "\ufffd"
    again = await executor.run(ssh_step("echo still here"), ctx, sink)
    assert again.status == "ok"
    assert sink.text().endswith("still here\n")


async def test_values_are_shell_quoted(ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path) -> None:
    canary = tmp_path / "pwned"
    payload = f'x\'; touch {canary}; echo "$(touch {canary})" `touch {canary}`'
    ctx = lab_context(ssh_lab, scope={"x": Value(payload)})
    sink = Collector()
    outcome = await executor.run(ssh_step("printf '%s' {{ x }}"), ctx, sink)
    assert outcome.status == "ok"
    assert sink.text() == payload
    assert not canary.exists()


async def test_connection_is_reused_across_steps(ssh_lab: SshLab, executor: SshExecutor) -> None:
    server = ssh_lab.servers["alpha"]
    before = server.accepted()
    ctx = lab_context(ssh_lab)
    first, second = Collector(), Collector()
    assert (await executor.run(ssh_step("echo $SSH_CONNECTION"), ctx, first)).status == "ok"
    assert (await executor.run(ssh_step("echo $SSH_CONNECTION"), ctx, second)).status == "ok"
    assert client_port(first.text()) == client_port(second.text())
    assert client_port(first.text())[1] == str(server.port)
    assert server.accepted() - before == 1
    assert executor.connections_opened == 1


async def test_close_drops_the_connections(ssh_lab: SshLab) -> None:
    server = ssh_lab.servers["alpha"]
    before = server.accepted()
    ctx = lab_context(ssh_lab)
    for _ in range(2):
        executor = SshExecutor()
        assert (await executor.run(ssh_step("true"), ctx, Collector())).status == "ok"
        await executor.close()
    assert server.accepted() - before == 2


async def test_runbook_host_fields_override_ssh_config(ssh_lab: SshLab, executor: SshExecutor) -> None:
    beta = ssh_lab.servers["beta"]
    ctx = lab_context(ssh_lab, hosts={"moved": {"address": "alpha", "port": beta.port, "user": ssh_lab.user}})
    sink = Collector()
    outcome = await executor.run(ssh_step("echo $SSH_CONNECTION", host="moved"), ctx, sink)
    assert outcome.status == "ok", outcome.detail
    assert client_port(sink.text("moved"))[1] == str(beta.port)


async def test_without_config_the_host_entry_is_enough(ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path) -> None:
    empty = tmp_path / "empty_config"
    empty.write_text("")
    alpha = ssh_lab.servers["alpha"]
    ctx = lab_context(
        ssh_lab,
        config=empty,
        identity=ssh_lab.identity,
        hosts={"direct": {"address": "127.0.0.1", "port": alpha.port, "user": ssh_lab.user}},
    )
    outcome = await executor.run(ssh_step("true", host="direct"), ctx, Collector())
    assert outcome.status == "ok", outcome.detail


@pytest.mark.skipif(shutil.which("sudo") is None, reason="sudo is not installed")
async def test_sudo_runs_the_whole_line_under_sudo(ssh_lab: SshLab, executor: SshExecutor) -> None:
    sink = Collector()
    outcome = await executor.run(ssh_step("id -u && id -u", sudo=True), lab_context(ssh_lab), sink)
    assert outcome.status == "ok", outcome.detail
    assert sink.text() == "0\n0\n"


async def test_capture_reads_the_output(ssh_lab: SshLab, executor: SshExecutor) -> None:
    step = ssh_step(
        "echo rows=42; echo backup-2026.tar.gz; echo", capture={"n": "regex:rows=(\\d+)", "backup": "stdout"}
    )
    outcome = await executor.run(step, lab_context(ssh_lab), Collector())
    assert outcome.status == "ok"
    assert outcome.captured == {"n": "42", "backup": "backup-2026.tar.gz"}


async def test_capture_that_finds_nothing_fails_the_step(ssh_lab: SshLab, executor: SshExecutor) -> None:
    step = ssh_step("echo nothing", capture={"n": "regex:rows=(\\d+)"})
    outcome = await executor.run(step, lab_context(ssh_lab), Collector())
    assert outcome.status == "failed"
    assert "rows" in outcome.detail


async def test_unknown_host_is_an_error_not_a_crash(ssh_lab: SshLab, executor: SshExecutor) -> None:
    ctx = lab_context(ssh_lab)
    outcome = await executor.run(ssh_step("true", host="nowhere"), ctx, Collector())
    assert outcome.status == "error"
    assert "nowhere" in outcome.detail


async def test_connection_refused_is_one_clear_line(ssh_lab: SshLab, executor: SshExecutor) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctx = lab_context(ssh_lab, hosts={"dead": {"address": "127.0.0.1", "port": port}})
    sink = Collector()
    outcome = await executor.run(ssh_step("true", host="dead"), ctx, sink)
    assert outcome.status == "error"
    assert "refused" in outcome.detail and "dead" in outcome.detail and "\n" not in outcome.detail
    assert "refused" in sink.text("dead", "info")


async def test_a_silent_server_hits_the_connect_timeout(ssh_lab: SshLab, executor: SshExecutor) -> None:
    # A socket that completes the TCP handshake (backlog) but never says a word.
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen(8)
        port = mute.getsockname()[1]
        ctx = lab_context(ssh_lab, hosts={"mute": {"address": "127.0.0.1", "port": port}}, connect_timeout=1)
        outcome = await executor.run(ssh_step("true", host="mute"), ctx, Collector())
    assert outcome.status == "error"
    assert "connect timeout" in outcome.detail


def test_describe_shows_user_address_port_and_the_quoted_command(ssh_lab: SshLab) -> None:
    ctx = lab_context(ssh_lab, scope={"f": Value("it's")}, groups={"pair": ["alpha", "behind"]})
    lines = SshExecutor().describe(ssh_step("cat {{ f }}", group="pair"), ctx)
    alpha, jump = ssh_lab.servers["alpha"].port, ssh_lab.servers["jump"].port
    user = ssh_lab.user
    assert lines == [
        f"[alpha] {user}@127.0.0.1:{alpha} $ cat 'it'\"'\"'s'",
        f"[behind] {user}@127.0.0.1:{alpha} via {user}@127.0.0.1:{jump} $ cat 'it'\"'\"'s'",
    ]


def test_keepalive_always_detects_a_dead_link_within_twenty_seconds() -> None:
    target = Target("h", "h", "h", 22, "u", keepalive_interval=30, keepalive_count=10)
    assert keepalive(target, SshSettings(keepalive=5)) == (5, 4)
    plain = Target("h", "h", "h", 22, "u")
    assert keepalive(plain, SshSettings(keepalive=5)) == (5, 3)
    assert keepalive(plain, SshSettings(keepalive=1)) == (1, 3)


async def test_an_edited_ssh_config_is_read_again(ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    alpha, beta = ssh_lab.servers["alpha"].port, ssh_lab.servers["beta"].port
    original = ssh_lab.config.read_text()
    ctx = lab_context(ssh_lab, config=config, hosts={"moving": {"address": "moving"}})
    step = ssh_step("echo $SSH_CONNECTION", host="moving")
    seen = []
    for port in (alpha, beta):
        config.write_text(f"Host moving\n  HostName 127.0.0.1\n  Port {port}\n" + original)
        sink = Collector()
        outcome = await executor.run(step, ctx, sink)
        assert outcome.status == "ok", outcome.detail
        seen.append(client_port(sink.text("moving"))[1])
    assert seen == [str(alpha), str(beta)]


@pytest.fixture
def agent(ssh_lab: SshLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real ssh-agent holding the lab key, SSH_AUTH_SOCK pointing at it."""
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if sock.exists() or proc.poll() is not None:
                break
            time.sleep(0.01)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", str(ssh_lab.identity)], env=env, check=True, capture_output=True, timeout=10)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        yield str(sock)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def config_without_identity(ssh_lab: SshLab, tmp_path: Path) -> Path:
    config = tmp_path / "ssh_config_agent"
    lines = ssh_lab.config.read_text().splitlines()
    config.write_text("\n".join(line for line in lines if "Identit" not in line) + "\n")
    return config


async def test_the_agent_is_used_when_ssh_auth_sock_is_set(
    ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path, agent: str
) -> None:
    ctx = lab_context(ssh_lab, config=config_without_identity(ssh_lab, tmp_path))
    outcome = await executor.run(ssh_step("true"), ctx, Collector())
    assert outcome.status == "ok", outcome.detail


async def test_without_a_usable_key_authentication_is_refused(
    ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    ctx = lab_context(ssh_lab, config=config_without_identity(ssh_lab, tmp_path), identity=stranger)
    outcome = await executor.run(ssh_step("true"), ctx, Collector())
    assert outcome.status == "error"
    assert "authentication refused" in outcome.detail and "alpha" in outcome.detail


async def test_a_broken_ssh_config_is_named_with_its_line(
    ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path
) -> None:
    config = tmp_path / "broken_config"
    config.write_text("Host alpha\n  Port notanumber\n")
    outcome = await executor.run(ssh_step("true"), lab_context(ssh_lab, config=config), Collector())
    assert outcome.status == "error"
    assert f"{config} line 2" in outcome.detail and "Port" in outcome.detail
    missing = await executor.run(ssh_step("true"), lab_context(ssh_lab, config=tmp_path / "nope"), Collector())
    assert missing.status == "error"
    assert f"cannot read ssh config {tmp_path / 'nope'}: No such file" in missing.detail


def test_sudo_wraps_the_whole_line_and_never_prompts(ssh_lab: SshLab) -> None:
    ctx = lab_context(ssh_lab, scope={"d": Value("/srv/a b")})
    [line] = SshExecutor().describe(ssh_step("cd {{ d }} && ./rollback.sh", sudo=True), ctx)
    assert line.endswith("$ sudo -n -- sh -c 'cd '\"'\"'/srv/a b'\"'\"' && ./rollback.sh'")
