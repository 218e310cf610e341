"""The session journal: JSON lines, appended, flushed and fsynced one event at a time.

A process killed mid-write leaves at most one torn last line; :func:`read_events` skips it
and :meth:`Journal.open` cuts it off before appending, so the file is always whole lines.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tui.engine.events import Event

JOURNAL_NAME = "journal.jsonl"


class JournalError(OSError):
    """The journal could not be written; the session can no longer promise a record."""


def fsync_dir(path: Path) -> None:
    """Make a new entry in ``path`` durable (a file created there survives a power cut)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _parse(raw: bytes) -> tuple[list[Event], int, bool]:
    """The events in ``raw``, the byte length of the whole lines they came from, and whether
    a torn or unreadable tail was left out."""
    events: list[Event] = []
    good = 0
    pos = 0
    while pos < len(raw):
        end = raw.find(b"\n", pos)
        if end < 0:
            return events, good, True
        line = raw[pos:end]
        pos = end + 1
        if not line.strip():
            good = pos
            continue
        try:
            events.append(Event.from_json(line.decode("utf-8")))
        except (ValueError, KeyError, TypeError):
            # Only the last line can be torn; a bad line in the middle is damage we keep
            # (and skip) rather than cut away everything after it.
            if pos >= len(raw):
                return events, good, True
            continue
        good = pos
    return events, good, False


def read_events(path: Path) -> list[Event]:
    """Every readable event in the journal at ``path`` (read-only: a torn tail is skipped)."""
    return _parse(path.read_bytes())[0]


class Journal:
    """An open journal for appending. Not thread-safe: one writer (the session's) at a time."""

    def __init__(self, path: Path, events: list[Event], repaired: bool) -> None:
        self.path = path
        self.events = events  # as read on open; the session keeps the live list
        self.repaired = repaired  # a torn last line was cut off on open
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    @classmethod
    def create(cls, directory: Path) -> Journal:
        path = directory / JOURNAL_NAME
        journal = cls(path, [], False)
        fsync_dir(directory)
        return journal

    @classmethod
    def open(cls, directory: Path) -> Journal:
        path = directory / JOURNAL_NAME
        raw = path.read_bytes()
        events, good, torn = _parse(raw)
        if torn:
            with open(path, "r+b") as handle:
                handle.truncate(good)
                handle.flush()
                os.fsync(handle.fileno())
        return cls(path, events, torn)

    def append(self, event: Event) -> None:
        data = (event.to_json() + "\n").encode("utf-8")
        size = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, data)
            while written < len(data):
                written += os.write(self._fd, data[written:])
            os.fsync(self._fd)
        except OSError as exc:
            # A full disk can take part of the line: cut it off, so the journal stays whole
            # lines and this event is plainly not in it (rather than torn, then followed).
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, size)
            raise JournalError(exc.errno, f"cannot write the journal {self.path}: {exc.strerror}") from exc

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
