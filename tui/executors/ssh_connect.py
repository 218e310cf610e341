"""Where an SSH host is and how to reach it safely: ssh_config resolution, host key trust, the pool.

Imported only when a runbook has an ssh step (it imports asyncssh). Host keys are checked
against ONE file, the known_hosts the runbook or ``--known-hosts`` names, always passed to
asyncssh explicitly: an ssh_config saying ``UserKnownHostsFile none`` or ``StrictHostKeyChecking
no`` cannot switch checking off. A jump host is connected here too, checked the same way, and
handed to asyncssh as the tunnel, so asyncssh never opens a ProxyJump on its own terms.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncssh
from asyncssh.config import SSHClientConfig

from tui.runbook.model import Host, SshSettings

MAX_JUMPS = 8
DEAD_LINK_SECONDS = 20.0  # keepalive interval x count never exceeds this
DEFAULT_KEEPALIVE_COUNT = 3
# AES-GCM first: with AES-NI it streams ~1.7x faster than asyncssh's first choice, ChaCha20-Poly1305.
CIPHERS = (
    "aes256-gcm@openssh.com",
    "aes128-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
)


class ConnectError(Exception):
    """Could not connect (or refused to): the message is one line naming the host."""


@dataclass(frozen=True)
class Target:
    """A resolved destination. ``name`` is the runbook host (or the jump spec) it came from."""

    name: str
    alias: str  # what ssh_config's Host patterns see
    hostname: str
    port: int
    user: str
    jump: Target | None = None
    host_key_alias: str | None = None
    keepalive_interval: float | None = None
    keepalive_count: int | None = None
    config_ciphers: bool = False  # ssh_config names Ciphers: its choice stands

    @property
    def where(self) -> str:
        via = f" via {self.jump.where}" if self.jump else ""
        return f"{self.user}@{self.hostname}:{self.port}{via}"

    @property
    def known_hosts_name(self) -> str:
        name = self.host_key_alias or self.hostname
        return name if self.port == 22 else f"[{name}]:{self.port}"


def config_paths(settings: SshSettings) -> list[str]:
    if settings.config:
        return [os.path.expanduser(settings.config)]
    default = Path("~/.ssh/config").expanduser()
    return [str(default)] if os.access(default, os.R_OK) else []


def known_hosts_path(settings: SshSettings) -> str:
    return os.path.expanduser(settings.known_hosts or "~/.ssh/known_hosts")


def _parse_jump(spec: str) -> tuple[str | None, str, int | None]:
    """``[user@]host[:port]`` (one ProxyJump hop) -> (user, host, port)."""
    user, _, rest = spec.rpartition("@")
    host, port = rest, None
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = int(tail[1:]) if tail.startswith(":") else None
    elif rest.count(":") == 1:
        host, _, text = rest.partition(":")
        port = int(text)
    return user or None, host, port


def lookup(paths: list[str], alias: str, user: str | None, port: int | None) -> SSHClientConfig:
    """What ssh_config says for ``alias``, as OpenSSH would read it.

    asyncssh has no public call for this: ``connect(config=...)`` applies the config but does
    not say what it resolved, and the step's "where" line, the jump chain and the known_hosts
    name need it. So this calls ``SSHClientConfig.load`` (positional: it passes its tail to
    ``SSHClientConfig.__init__``), under the asyncssh range pyproject pins; tests/test_public_apis.py
    fails naming it when an asyncssh release moves it."""
    try:
        return SSHClientConfig.load(
            None, paths, False, False, False, getpass.getuser(), user if user else (), alias, port if port else ()
        )
    except TypeError as exc:
        raise ConnectError(
            f"host {alias}: asyncssh {asyncssh.__version__} reads ssh_config differently than this rbconsole "
            f"expects ({exc}); install the asyncssh version its pyproject pins"
        ) from None


def resolve(
    name: str,
    hosts: Mapping[str, object],
    settings: SshSettings,
    *,
    _depth: int = 0,
) -> Target:
    """The target for runbook host ``name`` (or, for jumps, a ``[user@]host[:port]`` spec).

    The runbook's ``[hosts.X]`` address/user/port/jump win over ssh_config; ssh_config fills
    in the rest (HostName, Port, User, ProxyJump, ServerAlive*), as OpenSSH would.
    Raises ConnectError (a bad config, an unknown host, a jump loop).
    """
    if _depth > MAX_JUMPS:
        raise ConnectError(f"host {name}: more than {MAX_JUMPS} jumps (a ProxyJump loop?)")
    host = hosts.get(name)
    if isinstance(host, Host):
        alias, user, port, jump = host.address, host.user, host.port, host.jump
    elif _depth > 0:
        try:
            user, alias, port = _parse_jump(name)
        except ValueError:
            raise ConnectError(f"jump host {name!r} is not [user@]host[:port]") from None
        jump = None
    else:
        raise ConnectError(f"host {name} is not defined in [hosts]")
    paths = config_paths(settings)
    try:
        config = lookup(paths, alias, user, port)
    except OSError as exc:
        raise ConnectError(f"host {name}: cannot read ssh config {exc.filename or paths[0]}: {exc.strerror}") from None
    except (asyncssh.ConfigParseError, ValueError) as exc:
        # asyncssh names the file and line itself ("PATH line 2: Invalid Port integer value").
        raise ConnectError(f"host {name}: ssh config: {exc}") from None
    if jump is None:
        proxy = config.get("ProxyJump")
        jump = None if not proxy or str(proxy).lower() == "none" else str(proxy)
    hop: Target | None = None
    if jump:
        # OpenSSH's chain a,b,c: reach c through b through a.
        for spec in (s.strip() for s in jump.split(",")):
            previous = hop
            hop = resolve(spec, hosts if spec in hosts else {}, settings, _depth=_depth + 1)
            if previous is not None:
                hop = replace(hop, jump=previous)
    interval = config.get("ServerAliveInterval")
    count = config.get("ServerAliveCountMax")
    return Target(
        name=name,
        alias=alias,
        hostname=str(config.get("Hostname", alias)),
        port=int(config.get("Port", 22)),  # type: ignore[call-overload]
        user=str(config.get("User", getpass.getuser())),
        jump=hop,
        host_key_alias=config.get("HostKeyAlias"),  # type: ignore[arg-type]
        keepalive_interval=float(interval) if interval else None,  # type: ignore[arg-type]
        keepalive_count=int(count) if count else None,  # type: ignore[call-overload]
        config_ciphers=config.get("Ciphers") is not None,
    )


def keepalive(target: Target, settings: SshSettings) -> tuple[float, int]:
    """Interval and count so a silent dead link is noticed within ~DEAD_LINK_SECONDS, whatever the config says."""
    interval = settings.keepalive or 5.0
    if target.keepalive_interval:
        interval = min(interval, target.keepalive_interval)
    count = target.keepalive_count or DEFAULT_KEEPALIVE_COUNT
    return interval, max(1, min(count, int(DEAD_LINK_SECONDS // interval)))


def load_known_hosts(path: str) -> tuple[asyncssh.SSHKnownHosts, bool]:
    """The trusted keys (empty when the file is missing, never "no checking") and whether the file exists."""
    if not os.path.exists(path):
        return asyncssh.import_known_hosts(""), False
    try:
        return asyncssh.read_known_hosts(path), True
    except (OSError, ValueError) as exc:
        raise ConnectError(f"cannot read known_hosts {path}: {exc}") from None


def _keyscan_type(algorithm: str) -> str:
    if algorithm.startswith("ecdsa-"):
        return "ecdsa"
    return algorithm.removeprefix("ssh-")


def host_key_message(
    target: Target,
    key: asyncssh.SSHKey | None,
    known: asyncssh.SSHKnownHosts,
    path: str,
    exists: bool,
) -> str:
    """One line: what was offered, why it is refused, and the exact command that pins it."""
    offered = f"{key.get_algorithm()} {key.get_fingerprint('sha256')}" if key else "an unreadable key"
    port = f"-p {target.port} " if target.port != 22 else ""
    kh = shlex.quote(path)
    scan = f"ssh-keyscan {port}-t {_keyscan_type(key.get_algorithm()) if key else 'ed25519'} "
    scan += f"{shlex.quote(target.hostname)} >> {kh}"
    lookup_name = target.host_key_alias or target.hostname
    trusted, *_ = asyncssh.match_known_hosts(known, lookup_name, lookup_name, target.port)
    who = f"host {target.name} ({target.known_hosts_name})"
    revoked = _revoked_keys(path, lookup_name, target.port)
    # asyncssh does not ask about a key it found revoked (key is None then).
    if revoked and (key is None or key in revoked):
        if key is None and len(revoked) == 1:
            offered = f"{revoked[0].get_algorithm()} {revoked[0].get_fingerprint('sha256')}"
        return (
            f"{who}: offered host key {offered} is marked @revoked in {path}; refusing to connect"
            " (a revoked key is never trusted: ask the host's owner for its current key)"
        )
    if trusted:
        return (
            f"{who}: HOST KEY CHANGED: offered {offered} is not the key pinned in {path}; refusing to connect "
            f"(possible man-in-the-middle). If the change is expected: "
            f"ssh-keygen -R {shlex.quote(target.known_hosts_name)} -f {kh} && {scan}"
        )
    missing = "" if exists else f" ({path} does not exist)"
    return (
        f"{who}: unknown host key {offered}, not in {path}{missing}; refusing to connect. "
        f"Check the fingerprint with the host's owner, then pin it: {scan}"
    )


def _revoked_keys(path: str, host: str, port: int) -> list[asyncssh.SSHKey]:
    """The keys ``path`` marks @revoked for ``host``. (asyncssh's own lookup drops revoked
    entries written as [host]:port when no trusted key for that port is listed, so the
    revoked lines are read here as a list of their own.)"""
    try:
        lines = Path(os.path.expanduser(path)).read_text(errors="replace").splitlines()
    except OSError:
        return []
    entries = [line.strip().removeprefix("@revoked").strip() for line in lines if line.strip().startswith("@revoked ")]
    if not entries:
        return []
    try:
        found = asyncssh.match_known_hosts(asyncssh.import_known_hosts("\n".join(entries) + "\n"), host, host, port)
    except (ValueError, asyncssh.Error):
        return []
    unique = {key.get_fingerprint("sha256"): key for key in found[0]}  # host and address both match
    return list(unique.values())


def _client_factory() -> tuple[type[asyncssh.SSHClient], dict[str, Any]]:
    seen: dict[str, Any] = {}

    class _Client(asyncssh.SSHClient):
        def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
            # Only called for a key the known_hosts file does not trust: remember it for the message.
            seen["key"] = key
            return False

    return _Client, seen


def describe_error(target: Target, exc: BaseException, connect_timeout: float) -> str:
    who = f"host {target.name} ({target.where})"
    if isinstance(exc, asyncssh.PermissionDenied):
        return f"{who}: authentication refused ({exc.reason}); check User / IdentityFile / the agent"
    if isinstance(exc, asyncssh.DisconnectError):
        return f"{who}: disconnected while connecting: {exc.reason}"
    if isinstance(exc, TimeoutError):
        return f"{who}: no answer within {connect_timeout:g} s (connect timeout)"
    if isinstance(exc, ConnectionRefusedError):
        return f"{who}: connection refused (is sshd running on port {target.port}?)"
    if isinstance(exc, OSError):
        return f"{who}: cannot connect: {exc.strerror or exc}"
    if isinstance(exc, asyncssh.Error):
        return f"{who}: {exc.reason}"
    return f"{who}: {exc}"


def _alive(future: asyncio.Future[asyncssh.SSHClientConnection]) -> bool:
    return not future.cancelled() and future.exception() is None and not future.result().is_closed()


class Pool:
    """One connection per target, opened on first use, shared by concurrent users, reused across steps."""

    def __init__(self, settings: SshSettings) -> None:
        self.settings = settings
        self.known_hosts_path = known_hosts_path(settings)
        self.config_paths = config_paths(settings)
        self._known: tuple[asyncssh.SSHKnownHosts, bool] | None = None
        self._conns: dict[Target, asyncio.Future[asyncssh.SSHClientConnection]] = {}
        self._targets: dict[tuple[str, object], Target] = {}
        self._config_stamp: object = None
        self.opened = 0  # connections actually made (reuse shows as this not growing)

    def resolve_all(self, names: list[str], hosts: Mapping[str, object]) -> dict[str, Target]:
        """Targets for ``names``, remembered while the ssh_config files are unchanged (parsing a
        config of 100 hosts 100 times costs more than running a command on all of them)."""
        stamp = []
        for path in self.config_paths:
            try:
                info = os.stat(path)
            except OSError:
                stamp.append(None)
            else:
                stamp.append((info.st_mtime_ns, info.st_size, info.st_ino))
        if stamp != self._config_stamp:
            self._targets.clear()
            self._config_stamp = stamp
        table = tuple(sorted(hosts.items()))
        found = {}
        for name in names:
            key = (name, table)
            if key not in self._targets:
                self._targets[key] = resolve(name, hosts, self.settings)
            found[name] = self._targets[key]
        return found

    async def refresh_known_hosts(self) -> None:
        """Re-read known_hosts (once per step, so a key pinned after a refusal is seen on retry)."""
        self._known = await asyncio.to_thread(load_known_hosts, self.known_hosts_path)

    def forget(self, target: Target) -> None:
        self._conns.pop(target, None)

    async def get(self, target: Target) -> asyncssh.SSHClientConnection:
        future = self._conns.get(target)
        if future is not None and future.done() and not _alive(future):
            future = None
        if future is None:
            future = asyncio.ensure_future(self._open(target))
            self._conns[target] = future
        # Shielded: one caller giving up must not cancel a connect others are waiting for.
        return await asyncio.shield(future)

    async def _open(self, target: Target) -> asyncssh.SSHClientConnection:
        if self._known is None:
            await self.refresh_known_hosts()
        assert self._known is not None
        known, exists = self._known
        tunnel = None
        if target.jump is not None:
            try:
                tunnel = await self.get(target.jump)
            except ConnectError as exc:
                raise ConnectError(f"host {target.name}: via jump {exc}") from None
        factory, seen = _client_factory()
        interval, count = keepalive(target, self.settings)
        timeout = self.settings.connect_timeout
        identity = self.settings.identity
        ciphers: tuple[str, ...] | tuple[()] = () if target.config_ciphers else CIPHERS
        try:
            conn = await asyncssh.connect(
                target.alias,
                port=target.port,
                username=target.user,
                config=self.config_paths,
                known_hosts=known,
                tunnel=tunnel,
                client_factory=factory,
                client_keys=[os.path.expanduser(identity)] if identity else (),
                connect_timeout=timeout,
                keepalive_interval=interval,
                keepalive_count_max=count,
                encryption_algs=ciphers,
            )
        except asyncssh.HostKeyNotVerifiable:
            raise ConnectError(
                host_key_message(target, seen.get("key"), known, self.known_hosts_path, exists)
            ) from None
        except (OSError, asyncssh.Error, TimeoutError, ValueError) as exc:
            raise ConnectError(describe_error(target, exc, timeout)) from None
        self.opened += 1
        return conn

    async def close(self) -> None:
        conns = []
        for future in self._conns.values():
            if not future.done():
                future.cancel()
            elif not future.cancelled() and future.exception() is None:
                conns.append(future.result())
        self._conns.clear()
        for conn in conns:
            conn.close()
        if conns:
            await asyncio.wait([asyncio.ensure_future(c.wait_closed()) for c in conns], timeout=5)
