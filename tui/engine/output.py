"""Where a running action's output goes: redacted, into one file per host, and a bounded tail.

Output is never journaled line by line; it is written in the chunks it arrives in (each
one or many whole lines), flushed to the file before the chunk is shown (so a line on the
screen survives a ``kill -9``), fsynced when the action ends, and summarised in the action's
``*_finished`` event as a short excerpt. A chunk that cannot be written (a full disk) is not
shown: the collector stops, keeps why in :attr:`OutputCollector.error` and calls ``on_error``
so the action is stopped rather than run on unrecorded.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

TAIL_BYTES = 16 * 1024  # what memory keeps per host
EXCERPT_LINES = 20  # what the journal and the record keep per host
EXCERPT_CHARS = 4000
SYNC_EVERY = 8 * 1024 * 1024

# Writeback of a flood starts while it streams (one fdatasync at a time, off the loop), so
# the fsync at the step's end is short and dirty pages never pile up to stall a write.
_SYNCER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="output-sync")

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name)[:80] or "_"


class OutputCollector:
    """An executor's sink for one attempt of one action."""

    def __init__(
        self,
        directory: Path,
        stem: str,
        redact: Callable[[str], str],
        forward: Callable[[str, str, str], None],
    ) -> None:
        self._dir = directory
        self._stem = _safe(stem)
        self._redact = redact
        self._forward = forward
        self._files: dict[str, IO[str]] = {}
        self._tails: dict[str, deque[str]] = {}
        self._tail_sizes: dict[str, int] = {}
        self._unsynced: dict[str, int] = {}
        self._syncing: Future[None] | None = None
        self.bytes = 0
        self.error: str | None = None
        self.on_error: Callable[[str], None] | None = None

    def path(self, host: str) -> Path:
        return self._dir / f"{self._stem}.{_safe(host)}.log"

    def __call__(self, host: str, stream: str, text: str) -> None:
        if not text or self.error is not None:
            return
        text = self._redact(text)
        try:
            handle = self._files.get(host)
            if handle is None:
                # Held open across chunks (closed in close()); reopening per chunk would cost a
                # syscall pair per 64 KiB on a 10M-line stream.
                handle = open(self.path(host), "a", encoding="utf-8", errors="replace")  # noqa: SIM115
                self._files[host] = handle
                self._tails[host] = deque()
                self._tail_sizes[host] = 0
                self._unsynced[host] = 0
            handle.write(text)
            handle.flush()  # in the file before it is on a screen: what was shown was kept
        except OSError as exc:
            self._fail(host, exc)
            return
        self.bytes += len(text)
        self._unsynced[host] += len(text)
        if self._unsynced[host] >= SYNC_EVERY and (self._syncing is None or self._syncing.done()):
            self._syncing = _SYNCER.submit(os.fdatasync, handle.fileno())
            self._unsynced[host] = 0
        tail = self._tails[host]
        tail.append(text[-TAIL_BYTES:])
        self._tail_sizes[host] += len(tail[-1])
        while self._tail_sizes[host] > TAIL_BYTES and len(tail) > 1:
            self._tail_sizes[host] -= len(tail.popleft())
        self._forward(host, stream, text)

    def _fail(self, host: str, exc: OSError) -> None:
        self.error = f"cannot write the output file {self.path(host).name}: {exc.strerror or exc}"
        self._tails.setdefault(host, deque())
        if self.on_error is not None:
            self.on_error(self.error)

    def tail(self, host: str) -> str:
        return "".join(self._tails.get(host, ()))

    def excerpts(self) -> dict[str, str]:
        """The last lines per host, bounded, for the journal and the record."""
        out: dict[str, str] = {}
        for host in self._tails:
            lines = self.tail(host).splitlines()[-EXCERPT_LINES:]
            text = "\n".join(lines)
            out[host] = text[-EXCERPT_CHARS:]
        return out

    def files(self) -> dict[str, str]:
        return {host: self.path(host).name for host in self._tails}

    def close(self) -> None:
        """Flush and fsync every file (called off the event loop: fsync blocks)."""
        try:
            if self._syncing is not None:
                self._syncing.result()
        except OSError as exc:
            self.error = self.error or f"cannot sync the output: {exc.strerror or exc}"
        for host, handle in self._files.items():
            try:
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                self.error = self.error or f"cannot write the output file {self.path(host).name}: {exc.strerror or exc}"
            finally:
                # What close would flush failed above and is already the step's failure.
                with contextlib.suppress(OSError):
                    handle.close()
        self._files.clear()
