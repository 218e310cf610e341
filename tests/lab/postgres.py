"""Lab fixture: a real PostgreSQL cluster on 127.0.0.1, one per xdist worker.

``initdb`` and ``postgres`` refuse to run as root, so as root both run as the ``postgres``
user via ``runuser -u postgres --`` (as anyone else, as that user); the data directory is a
fresh temp dir the server's user owns. Password
authentication over TCP (scram) is on, so tests can prove a DSN's password never leaks.
Each test that wants a clean slate takes ``pg_dsn``: a database of its own in that cluster.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_USER = "postgres"


@dataclass(frozen=True)
class PgLab:
    host: str
    port: int
    user: str
    password: str
    datadir: Path

    def dsn(self, dbname: str = "postgres", *, password: bool = True) -> str:
        secret = f":{self.password}" if password else ""
        return f"postgresql://{self.user}{secret}@{self.host}:{self.port}/{dbname}?connect_timeout=10"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bin(name: str) -> str | None:
    """Debian keeps the server programs off PATH, under /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return str(candidates[-1]) if candidates else None


def _as_postgres(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    # PostgreSQL refuses to run as root; as anyone else it runs as that user.
    prefix = ["runuser", "-u", PG_USER, "--"] if os.geteuid() == 0 else []
    program = _bin(argv[0]) or argv[0]
    return subprocess.run([*prefix, program, *argv[1:]], capture_output=True, text=True, timeout=timeout, check=False)


def _start(datadir: Path) -> int:
    """Start postgres on a free port and return it; ``pg_ctl -w`` waits until it accepts."""
    log = datadir.parent / "postgres.log"
    last = ""
    for _ in range(3):  # a port picked as free may be taken by another worker before we bind it
        port = _free_port()
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={datadir}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c dynamic_shared_memory_type=mmap -c max_connections=50 -c shared_buffers=16MB"
        )
        started = _as_postgres("pg_ctl", "-D", str(datadir), "-l", str(log), "-w", "-t", "60", "-o", options, "start")
        if started.returncode == 0:
            return port
        last = started.stderr + started.stdout + (log.read_text(errors="replace")[-2000:] if log.exists() else "")
    raise RuntimeError(f"postgres did not start: {last}")


@pytest.fixture(scope="session")
def pg() -> Iterator[PgLab]:
    """The worker's cluster, torn down at the end of the session."""
    if _bin("initdb") is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        # The lab is part of the suite, never optional: a missing server is a failure, not a pass.
        pytest.fail(
            "PostgreSQL (initdb) or runuser is not installed: run `bash .ci/run` (Debian, as root) or install it"
        )
    root = Path(tempfile.mkdtemp(prefix="rbconsole-pg-"))
    os.chmod(root, 0o755)
    owner = PG_USER if os.geteuid() == 0 else None
    datadir = root / "data"
    password = "lab-" + secrets.token_hex(12)
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if owner is not None:
        shutil.chown(root, owner, owner)
        shutil.chown(pwfile, owner, owner)
    try:
        made = _as_postgres(
            "initdb", "-D", str(datadir), "-U", PG_USER, "-E", "UTF8", "--no-locale",
            "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "--no-sync",
        )  # fmt: skip
        if made.returncode != 0:
            raise RuntimeError(f"initdb failed: {made.stderr.strip()}")
        port = _start(datadir)
        try:
            yield PgLab("127.0.0.1", port, PG_USER, password, datadir)
        finally:
            _as_postgres("pg_ctl", "-D", str(datadir), "-m", "immediate", "-w", "-t", "30", "stop", timeout=60)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_dsn(pg: PgLab) -> Iterator[str]:
    """A DSN (with the password) to a fresh database of this test's own, dropped afterwards."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg.dsn(name)
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
