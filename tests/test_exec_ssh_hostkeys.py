"""Host key trust against the real sshd: only the given known_hosts counts, whatever ssh_config says."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.lab.sshd import Collector, SshLab, lab_context, ssh_step
from tui.executors.ssh import SshExecutor

pytestmark = pytest.mark.lab


@pytest.fixture
async def executor() -> AsyncIterator[SshExecutor]:
    ex = SshExecutor()
    try:
        yield ex
    finally:
        await ex.close()


def fingerprint(pub: str) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", "-"], input=pub, capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def known_hosts(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text("".join(line + "\n" for line in lines))
    return path


async def test_unknown_key_is_refused_with_fingerprint_and_the_pin_command_works(
    ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path
) -> None:
    alpha = ssh_lab.servers["alpha"]
    before = alpha.accepted()
    kh = known_hosts(tmp_path, ssh_lab.servers["beta"].known_hosts_line)
    ctx = lab_context(ssh_lab, known_hosts=kh)
    sink = Collector()
    outcome = await executor.run(ssh_step("echo should not run"), ctx, sink)
    assert outcome.status == "error"
    detail = outcome.detail
    assert "\n" not in detail
    assert "unknown host key" in detail and "alpha" in detail
    assert fingerprint(alpha.host_pub) in detail
    assert sink.text() == ""
    assert alpha.accepted() == before
    pin = re.search(r"pin it: (ssh-keyscan .*)$", detail)
    assert pin is not None, detail
    assert pin.group(1) == f"ssh-keyscan -p {alpha.port} -t ed25519 127.0.0.1 >> {shlex.quote(str(kh))}"
    # The operator runs exactly what the message says; the retry then connects.
    subprocess.run(pin.group(1), shell=True, check=True, capture_output=True, timeout=30)
    again = await executor.run(ssh_step("echo pinned"), ctx, sink)
    assert again.status == "ok", again.detail
    assert sink.text() == "pinned\n"


async def test_changed_key_is_refused(ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path) -> None:
    alpha = ssh_lab.servers["alpha"]
    kh = known_hosts(tmp_path, ssh_lab.other_key_line("alpha"))
    outcome = await executor.run(ssh_step("echo no"), lab_context(ssh_lab, known_hosts=kh), Collector())
    assert outcome.status == "error"
    assert "HOST KEY CHANGED" in outcome.detail
    assert fingerprint(alpha.host_pub) in outcome.detail
    assert f"ssh-keygen -R '[127.0.0.1]:{alpha.port}'" in outcome.detail


async def test_a_revoked_key_is_refused_as_revoked(ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path) -> None:
    alpha = ssh_lab.servers["alpha"]
    before = alpha.accepted()
    for lines in (
        [f"@revoked {alpha.known_hosts_line}"],
        [alpha.known_hosts_line, f"@revoked {alpha.known_hosts_line}"],
    ):
        kh = known_hosts(tmp_path, *lines)
        outcome = await executor.run(ssh_step("echo no"), lab_context(ssh_lab, known_hosts=kh), Collector())
        assert outcome.status == "error"
        assert "marked @revoked" in outcome.detail and "CHANGED" not in outcome.detail, outcome.detail
        assert fingerprint(alpha.host_pub) in outcome.detail
    assert alpha.accepted() == before


async def test_a_missing_known_hosts_file_trusts_nothing(
    ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path
) -> None:
    kh = tmp_path / "absent_known_hosts"
    outcome = await executor.run(ssh_step("true"), lab_context(ssh_lab, known_hosts=kh), Collector())
    assert outcome.status == "error"
    assert "does not exist" in outcome.detail
    assert fingerprint(ssh_lab.servers["alpha"].host_pub) in outcome.detail


@pytest.mark.parametrize("user_known_hosts", ["none", "/dev/null"])
async def test_ssh_config_cannot_switch_checking_off(
    ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path, user_known_hosts: str
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        ssh_lab.config.read_text()
        .replace(f"UserKnownHostsFile {ssh_lab.known_hosts}", f"UserKnownHostsFile {user_known_hosts}")
        .replace("StrictHostKeyChecking yes", "StrictHostKeyChecking no")
        .replace("Host *\n", "Host *\n  GlobalKnownHostsFile /dev/null\n")
    )
    kh = known_hosts(tmp_path)
    outcome = await executor.run(ssh_step("true"), lab_context(ssh_lab, config=config, known_hosts=kh), Collector())
    assert outcome.status == "error"
    assert "unknown host key" in outcome.detail
    assert kh.read_text() == ""  # refused, never added


async def test_a_known_host_connects(ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path) -> None:
    kh = known_hosts(tmp_path, ssh_lab.servers["alpha"].known_hosts_line)
    outcome = await executor.run(ssh_step("true"), lab_context(ssh_lab, known_hosts=kh), Collector())
    assert outcome.status == "ok", outcome.detail


async def test_proxyjump_goes_through_the_jump_host(ssh_lab: SshLab, executor: SshExecutor) -> None:
    alpha, jump = ssh_lab.servers["alpha"], ssh_lab.servers["jump"]
    alpha_before, jump_before = alpha.accepted(), jump.accepted()
    sink = Collector()
    outcome = await executor.run(ssh_step("echo $SSH_CONNECTION", host="behind"), lab_context(ssh_lab), sink)
    assert outcome.status == "ok", outcome.detail
    assert sink.text("behind").split()[3] == str(alpha.port)
    assert (alpha.accepted() - alpha_before, jump.accepted() - jump_before) == (1, 1)


async def test_runbook_jump_overrides_the_config(ssh_lab: SshLab, executor: SshExecutor) -> None:
    jump = ssh_lab.servers["jump"]
    before = jump.accepted()
    ctx = lab_context(ssh_lab, hosts={"hidden": {"address": "beta", "jump": "jump"}})
    outcome = await executor.run(ssh_step("true", host="hidden"), ctx, Collector())
    assert outcome.status == "ok", outcome.detail
    assert jump.accepted() - before == 1


async def test_an_unknown_jump_host_key_is_refused_before_reaching_the_target(
    ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path
) -> None:
    alpha, jump = ssh_lab.servers["alpha"], ssh_lab.servers["jump"]
    before = alpha.accepted()
    kh = known_hosts(tmp_path, alpha.known_hosts_line)
    outcome = await executor.run(ssh_step("true", host="behind"), lab_context(ssh_lab, known_hosts=kh), Collector())
    assert outcome.status == "error"
    assert "via jump host jump" in outcome.detail
    assert fingerprint(jump.host_pub) in outcome.detail
    assert f"ssh-keyscan -p {jump.port}" in outcome.detail
    assert alpha.accepted() == before


async def test_the_target_behind_a_jump_is_checked_too(ssh_lab: SshLab, executor: SshExecutor, tmp_path: Path) -> None:
    kh = known_hosts(tmp_path, ssh_lab.servers["jump"].known_hosts_line, ssh_lab.other_key_line("alpha"))
    outcome = await executor.run(ssh_step("true", host="behind"), lab_context(ssh_lab, known_hosts=kh), Collector())
    assert outcome.status == "error"
    assert "HOST KEY CHANGED" in outcome.detail and "behind" in outcome.detail


async def test_a_jump_chain_is_followed_hop_by_hop(ssh_lab: SshLab, executor: SshExecutor) -> None:
    servers = [ssh_lab.servers[name] for name in ("jump", "beta", "alpha")]
    before = [server.accepted() for server in servers]
    ctx = lab_context(ssh_lab, hosts={"deep": {"address": "alpha", "jump": "jump,beta"}})
    sink = Collector()
    outcome = await executor.run(ssh_step("echo $SSH_CONNECTION", host="deep"), ctx, sink)
    assert outcome.status == "ok", outcome.detail
    assert [s.accepted() - b for s, b in zip(servers, before, strict=True)] == [1, 1, 1]
    assert sink.text("deep").split()[3] == str(ssh_lab.servers["alpha"].port)
