"""Lab: real OpenSSH sshd instances on 127.0.0.1, with generated keys, an ssh_config and a known_hosts.

Each sshd runs in the foreground (``-D -e``) from a private config in a temp dir, on a free high
port, authorizing a generated client key for the current user (root in CI). Every pytest-xdist
worker is its own process and so starts its own instances. The same classes serve the
benchmarks in bench/, which start a lab without pytest.

Servers: ``alpha`` and ``beta`` (targets), ``jump`` (a bastion for ProxyJump). ssh_config
aliases: ``alpha``, ``beta``, ``alpha2`` / ``beta2`` (second names for the same servers, for
fan-out), ``behind`` (alpha reached through ``jump``). known_hosts pins every server's key.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tui.executors.base import ExecContext
from tui.runbook.model import Runbook, SshAction, SshSettings
from tui.runbook.placeholders import Value

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
START_ATTEMPTS = 5
START_DEADLINE = 15.0


def _keygen(path: Path, comment: str) -> str:
    """A fresh ed25519 key pair at ``path``; returns the public key line ("ssh-ed25519 AAAA... comment")."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_suffix(".pub").read_text().strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _openssh_version() -> tuple[int, int]:
    out = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr
    match = re.search(r"OpenSSH_(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], deadline: float) -> bool:
    """True once something accepts on the port; False if sshd exits first or the deadline passes."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@dataclass
class Sshd:
    """One running sshd."""

    name: str
    dir: Path
    port: int
    host_key: Path
    host_pub: str
    proc: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.dir / "sshd.log"

    @property
    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_pub}"

    def accepted(self) -> int:
        """How many logins this sshd has accepted so far (counts connections)."""
        return self.log.read_text(errors="replace").count("Accepted publickey")

    def session_pids(self) -> list[int]:
        """The per-connection sshd processes (children of the listener)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name is in parentheses and may contain spaces: the ppid follows the last ')'.
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                pids.append(int(entry.name))
        return pids

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_sshd(name: str, root: Path, authorized_keys: Path, env: dict[str, str] | None = None) -> Sshd:
    """Start one sshd in ``root/name`` on a free port (retrying if another worker took the port).
    ``env`` adds variables to its sessions' environment (``SetEnv``), after the private HOME; with
    it, SFTP starts in that HOME too (scp's ``~/`` then means the same directory as the shell's)."""
    directory = root / name
    directory.mkdir(parents=True, exist_ok=True)
    host_key = directory / "ssh_host_ed25519_key"
    host_pub = _keygen(host_key, f"{name}-host") if not host_key.exists() else host_key.with_suffix(".pub").read_text()
    # sshd run as root insists on its privilege separation directory.
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    extra = "PerSourcePenalties no\n" if _openssh_version() >= (9, 8) else ""
    home = root / "home"
    home.mkdir(exist_ok=True)
    session_env = " ".join(f"{k}={v}" for k, v in {"HOME": str(home), **(env or {})}.items())
    last_error = ""
    for _ in range(START_ATTEMPTS):
        port = _free_port()
        config = directory / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1\n"
            f"Port {port}\n"
            f"HostKey {host_key}\n"
            f"PidFile {directory / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {authorized_keys}\n"
            "StrictModes no\n"
            "UsePAM no\n"
            "PermitRootLogin prohibit-password\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "AllowTcpForwarding yes\n"
            # The fan-out benchmark opens 100 connections at once.
            "MaxStartups 300\n"
            "MaxSessions 100\n"
            "LogLevel INFO\n"
            # The lab's sessions must not run the box's own dotfiles (a root ~/.bashrc doing
            # `pyenv init` costs ~0.3 s of CPU per command): a private, empty HOME.
            f"SetEnv {session_env}\n"
            f"Subsystem sftp internal-sftp{f' -d {home}' if env else ''}\n" + extra
        )
        log = (directory / "sshd.log").open("ab")
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        if _wait_for_port(port, proc, time.monotonic() + START_DEADLINE):
            return Sshd(name, directory, port, host_key, host_pub, proc)
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        last_error = (directory / "sshd.log").read_text(errors="replace").strip().splitlines()[-1:]
    raise RuntimeError(f"sshd {name} did not start: {last_error}")


@dataclass
class SshLab:
    """Running sshd instances plus the client side: key, ssh_config, known_hosts."""

    dir: Path
    user: str
    identity: Path
    servers: dict[str, Sshd] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> server name
    jumps: dict[str, str] = field(default_factory=dict)  # alias -> the alias it jumps through

    @property
    def config(self) -> Path:
        return self.dir / "ssh_config"

    @property
    def known_hosts(self) -> Path:
        return self.dir / "known_hosts"

    @classmethod
    def start(
        cls, directory: Path, servers: tuple[str, ...] = ("alpha", "beta", "jump"), env: dict[str, str] | None = None
    ) -> SshLab:
        directory.mkdir(parents=True, exist_ok=True)
        identity = directory / "id_ed25519"
        client_pub = _keygen(identity, "rbconsole-lab")
        authorized = directory / "authorized_keys"
        authorized.write_text(client_pub + "\n")
        lab = cls(directory, getpass.getuser(), identity)
        try:
            for name in servers:
                lab.servers[name] = start_sshd(name, directory, authorized, env)
        except BaseException:
            lab.stop()
            raise
        for name in servers:
            lab.aliases[name] = name
        lab.known_hosts.write_text("".join(s.known_hosts_line + "\n" for s in lab.servers.values()))
        lab.write_config()
        return lab

    def add_alias(self, alias: str, server: str, jump: str | None = None) -> None:
        self.aliases[alias] = server
        if jump:
            self.jumps[alias] = jump

    def write_config(self, extra: str = "") -> Path:
        """(Re)write the client ssh_config: one ``Host`` block per alias, ``extra`` lines under ``Host *``."""
        blocks = []
        for alias, server in self.aliases.items():
            lines = [f"Host {alias}", "  HostName 127.0.0.1", f"  Port {self.servers[server].port}"]
            if alias in self.jumps:
                lines.append(f"  ProxyJump {self.jumps[alias]}")
            blocks.append("\n".join(lines))
        common = (
            "Host *\n"
            f"  User {self.user}\n"
            f"  IdentityFile {self.identity}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {self.known_hosts}\n"
            "  StrictHostKeyChecking yes\n"
            "  BatchMode yes\n"
            "  LogLevel ERROR\n" + extra
        )
        self.config.write_text("\n".join(blocks) + "\n" + common)
        return self.config

    def other_key_line(self, server: str) -> str:
        """A known_hosts line for ``server``'s address with a key that is NOT its key (a "changed" key)."""
        path = self.dir / f"impostor_{server}"
        pub = path.with_suffix(".pub")
        line = pub.read_text().strip() if pub.exists() else _keygen(path, "impostor")
        return f"[127.0.0.1]:{self.servers[server].port} {line}"

    def ssh(self, alias: str, command: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        """The same command through OpenSSH's client (for baselines and cross-checks)."""
        return subprocess.run(["ssh", "-F", str(self.config), alias, command], **kwargs)  # type: ignore[call-overload]

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


def lab_context(
    lab: SshLab,
    *,
    config: Path | None = None,
    known_hosts: Path | None = None,
    hosts: dict[str, dict[str, object]] | None = None,
    groups: dict[str, list[str]] | None = None,
    scope: dict[str, Value] | None = None,
    identity: Path | None = None,
    connect_timeout: float = 10.0,
    keepalive: float = 5.0,
    default_timeout: float = 120.0,
) -> ExecContext:
    """An ExecContext whose runbook has one ``[hosts.X]`` per lab alias (``address = X``) plus ``hosts``."""
    table = {alias: {"address": alias} for alias in lab.aliases}
    table.update(hosts or {})
    runbook = Runbook.model_validate(
        {
            "schema": 1,
            "id": "lab",
            "title": "lab",
            "service": "lab",
            "hosts": table,
            "groups": groups or {},
            "plans": {"A": {"title": "A", "steps": [{"id": "s", "kind": "manual"}]}},
        }
    )
    settings = SshSettings(
        config=str(config or lab.config),
        known_hosts=str(known_hosts or lab.known_hosts),
        identity=str(identity) if identity else None,
        connect_timeout=connect_timeout,
        keepalive=keepalive,
    )
    return ExecContext(runbook, scope or {}, runbook.hosts, settings, default_timeout=default_timeout)


def ssh_step(run: str, **fields: object) -> SshAction:
    """An ssh step (``host = "alpha"`` unless ``host`` / ``hosts`` / ``group`` is given)."""
    if not {"host", "hosts", "group"} & fields.keys():
        fields["host"] = "alpha"
    return SshAction.model_validate({"id": "step", "kind": "ssh", "run": run, **fields})


class Collector:
    """An output sink that counts what arrives and keeps a bounded tail per host and stream."""

    TAIL = 64 * 1024

    def __init__(self) -> None:
        self.calls = 0
        self.chars: dict[tuple[str, str], int] = {}
        self.lines: dict[tuple[str, str], int] = {}
        self.tails: dict[tuple[str, str], str] = {}
        self.events: dict[str, asyncio.Event] = {}

    def __call__(self, host: str, stream: str, text: str) -> None:
        self.calls += 1
        key = (host, stream)
        self.chars[key] = self.chars.get(key, 0) + len(text)
        self.lines[key] = self.lines.get(key, 0) + text.count("\n")
        self.tails[key] = (self.tails.get(key, "") + text)[-self.TAIL :]
        for marker, event in self.events.items():
            if marker in text:
                event.set()

    def text(self, host: str = "alpha", stream: str = "stdout") -> str:
        return self.tails.get((host, stream), "")

    def seen(self, marker: str) -> asyncio.Event:
        """An event set once ``marker`` shows up in any output (wait on it instead of sleeping)."""
        return self.events.setdefault(marker, asyncio.Event())


def kill_sessions(server: Sshd) -> list[int]:
    """kill -9 every per-connection sshd process of ``server`` (a link dying mid-step)."""
    pids = server.session_pids()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids


@pytest.fixture(scope="session")
def ssh_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLab]:
    if not Path(SSHD).exists() or shutil.which("ssh-keygen") is None:
        # The lab is part of the suite, never optional: a missing server is a failure, not a pass.
        pytest.fail(
            "OpenSSH server/client not installed (sshd, ssh-keygen): run `bash .ci/run` (Debian, as root) or install it"
        )
    lab = SshLab.start(tmp_path_factory.mktemp("sshlab"))
    lab.add_alias("alpha2", "alpha")
    lab.add_alias("beta2", "beta")
    lab.add_alias("behind", "alpha", jump="jump")
    lab.write_config()
    try:
        yield lab
    finally:
        lab.stop()
