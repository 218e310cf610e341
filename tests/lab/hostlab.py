"""Lab fixture: the seed runbooks' service host — one sshd on 127.0.0.1 whose sessions find the
service-manager stand-ins of :mod:`tests.lab.servicectl` first on their PATH (``SetEnv PATH=``),
and the seeds' services as real processes (:mod:`tests.lab.seed_app`) those stand-ins control.

Its ssh_config names the server by every alias the seeds' ``lab`` profiles use (``alpha``,
``rbconsole-lab``). The bastion side (local steps: kubectl) gets the same stand-ins through
:meth:`SeedHost.env`, the environment a test gives the ``rbconsole`` it starts; nothing is
installed outside the lab's own directory. The sshd and its directory live for the worker's
session; :func:`host` resets the services, their state and the lab HOME for each test.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lab.servicectl import TOOLS, Lab
from tests.lab.sshd import SSHD, SshLab

HERE = Path(__file__).resolve().parent
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ALIASES = ("alpha", "rbconsole-lab")  # the host names the seeds' lab profiles give


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SeedHost:
    root: Path  # bin/, services/, run/, log/, state/, crontab
    ssh: SshLab

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def home(self) -> Path:
        """The lab sessions' HOME (the documents' ~)."""
        return self.ssh.dir / "home"

    @property
    def lab(self) -> Lab:
        return Lab(self.root)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for an ``rbconsole`` run: the lab's stand-ins first on PATH."""
        return {**os.environ, "PATH": f"{self.bin}:{os.environ.get('PATH', SYSTEM_PATH)}", **extra}

    def state(self, name: str) -> Path:
        path = self.root / "state" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def define(self, name: str, kind: str, manager: str, app_dir: Path | None = None, **extra: object) -> str:
        """Define service ``name`` (a ``seed_app`` of ``kind``) under ``manager``; returns its base URL."""
        port = _free_port()
        argv = [
            sys.executable,
            "-S",
            str(HERE / "seed_app.py"),
            kind,
            "--port",
            str(port),
            "--state",
            str(self.state(name)),
        ]
        if app_dir is not None:
            argv += ["--app-dir", str(app_dir)]
        spec = {"argv": argv, "cwd": str(self.root), "port": port, "manager": manager, **extra}
        (self.root / "services" / f"{name}.json").write_text(json.dumps(spec), encoding="utf-8")
        return f"http://127.0.0.1:{port}"

    def start(self, name: str) -> None:
        self.lab.start(name)

    def url(self, name: str) -> str:
        spec = self.lab.definition(name)
        assert spec is not None, name
        return f"http://127.0.0.1:{spec['port']}"

    def process(self, name: str) -> dict[str, object] | None:
        """What the running service says of itself (pid, start time, loaded version); None if down."""
        try:
            with urllib.request.urlopen(self.url(name) + "/lab/process", timeout=5) as answer:
                return json.loads(answer.read())
        except OSError:
            return None

    def requests(self, name: str) -> list[str]:
        log = self.state(name) / "requests.log"
        return log.read_text(encoding="utf-8").splitlines() if log.exists() else []

    def reset(self) -> None:
        lab = self.lab
        for name in lab.definitions():
            lab.stop(name)
        for sub in ("services", "state", "run", "log"):
            shutil.rmtree(self.root / sub, ignore_errors=True)
            (self.root / sub).mkdir(parents=True)
        (self.root / "crontab").unlink(missing_ok=True)
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir()


def _write_tools(root: Path) -> None:
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for tool in TOOLS:
        path = bin_dir / tool
        path.write_text(f'#!/bin/sh\nexec {sys.executable} -S {HERE / "servicectl.py"} {root} {tool} "$@"\n')
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture(scope="session")
def seed_host_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeedHost]:
    if not Path(SSHD).exists():
        pytest.fail("OpenSSH server not installed (sshd): run `bash .ci/run` (Debian, as root) or install it")
    base = tmp_path_factory.mktemp("seedhost")
    root = base / "lab"
    _write_tools(root)
    ssh = SshLab.start(base / "ssh", servers=("seedhost",), env={"PATH": f"{root / 'bin'}:{SYSTEM_PATH}"})
    for alias in ALIASES:
        ssh.add_alias(alias, "seedhost")
    ssh.write_config()
    host = SeedHost(root, ssh)
    host.reset()
    try:
        yield host
    finally:
        host.reset()
        ssh.stop()


@pytest.fixture
def seed_host(seed_host_session: SeedHost) -> Iterator[SeedHost]:
    """The seed service host, with no service defined, for this test; every service it started is
    stopped afterwards."""
    seed_host_session.reset()
    try:
        yield seed_host_session
    finally:
        seed_host_session.reset()
