"""One writer per session: an advisory ``flock`` on the session's lock file.

The file is opened without O_TRUNC and only rewritten after the lock is held, so a second
process reading it always finds the holder's "user@host pid N", never an empty file it
truncated itself. The kernel drops the lock when the holder dies (even by kill -9).
"""

from __future__ import annotations

import fcntl
import getpass
import os
import socket
from pathlib import Path

LOCK_NAME = "lock"


def whoami() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


class SessionLock:
    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._fd = -1
        self.holder: str | None = None  # who holds it when we could not take it

    def acquire(self) -> bool:
        """Take the lock; False (and ``holder`` set) if another process has it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.holder = os.pread(fd, 256, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{whoami()} pid {os.getpid()}\n".encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    @property
    def held(self) -> bool:
        return self._fd >= 0
