"""A session's events: each one journaled (fsynced) first, then folded into the state, then delivered.

The :class:`Recorder` is the one way an event comes into being, so the journal, the state and
what subscribers (the console, the headless printer) saw never disagree. A subscriber that
raises loses nothing but its own view: the event is already on disk, the others still get it,
and the error goes to the log with its traceback (``logging``; the CLI and the console decide
where the log is written).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tui.engine import events as ev
from tui.engine.api import SessionError, Subscriber
from tui.engine.events import Event
from tui.engine.journal import Journal, JournalError
from tui.engine.lock import SessionLock
from tui.engine.redact import Redactor
from tui.engine.state import SessionState, apply

log = logging.getLogger(__name__)


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Recorder:
    """Journals, folds and delivers a session's events. ``journal`` None: read-only."""

    def __init__(
        self,
        session_id: str,
        journal: Journal | None,
        lock: SessionLock,
        redact: Redactor,
        history: list[Event],
        *,
        live: bool,
    ) -> None:
        self.session_id = session_id
        self._journal = journal
        self._lock = lock
        self._redact = redact
        self._events: list[Event] = []
        self._state = SessionState()
        self._seq = 0
        for event in history:
            self._take(event)
        if not live:
            for action in self._state.actions.values():
                if action.status == "running":
                    action.status = "unknown"  # the process that ran it died while it ran
        self._subscribers: list[Subscriber] = []
        self._emit_lock: asyncio.Lock | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._journal_ok = True
        # Why no further action may start: the journal (or an output file) cannot be written,
        # so whatever ran next would run unrecorded. Set once, never cleared in this process.
        self._broken: str | None = None

    # --- what was recorded -------------------------------------------------------------------

    @property
    def events(self) -> list[Event]:
        return list(self._events)

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def seq(self) -> int:
        """The sequence number of the last event (transient output carries it)."""
        return self._seq

    @property
    def read_only(self) -> bool:
        return self._journal is None

    @property
    def journal_ok(self) -> bool:
        return self._journal_ok and self._journal is not None

    @property
    def broken(self) -> str | None:
        """Why nothing more may run (the journal or an output file failed), or None."""
        return self._broken

    def mark_broken(self, reason: str) -> None:
        """Nothing more may run: ``reason`` (the first one is kept)."""
        self._broken = self._broken or reason

    # --- subscribers ---------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    @property
    def listened(self) -> bool:
        return bool(self._subscribers)

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to every subscriber. One that raises is logged and skipped: the event
        is journaled already, and a broken view must not stop the rollback it shows."""
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception(
                    "session %s: subscriber %r failed on %s #%d", self.session_id, subscriber, event.type, event.seq
                )

    # --- recording -----------------------------------------------------------------------------

    def _read_only_reason(self) -> str:
        if self._state.result:
            return f"session {self.session_id} has ended ({self._state.result}); it is read-only"
        return f"session {self.session_id} is read-only (locked by {self._lock.holder})"

    def _take(self, event: Event) -> None:
        self._events.append(event)
        self._seq = max(self._seq, event.seq)
        apply(self._state, event)

    def _make(self, kind: str, data: Mapping[str, Any]) -> Event:
        self._seq += 1
        return Event(self._seq, time.time(), kind, self._redact.data(dict(data)))

    def record_now(self, kind: str, data: Mapping[str, Any]) -> Event:
        """Journal an event synchronously (session start and resume, before any loop runs).
        If it cannot be written the session cannot be trusted: its lock is released and
        :class:`SessionError` says why."""
        if self._journal is None:
            raise SessionError(self._read_only_reason())
        event = self._make(kind, data)
        try:
            self._journal.append(event)
        except JournalError as exc:
            self._lock.release()
            raise SessionError(str(exc)) from None
        self._take(event)
        self.deliver(event)
        return event

    async def emit(
        self, kind: str, data: Mapping[str, Any], unjournaled: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    ) -> Event:
        """Journal ``kind`` and deliver it. If it cannot be journaled, ``unjournaled`` may say
        what the process then holds instead (the end of a session whose end is not on disk)."""
        if self._journal is None:
            raise SessionError(self._read_only_reason())
        if self._emit_lock is None:
            self._emit_lock = asyncio.Lock()
        warning: Event | None = None
        async with self._emit_lock:
            event = self._make(kind, data)
            if self._journal_ok:
                try:
                    await asyncio.get_running_loop().run_in_executor(self._pool, self._journal.append, event)
                except JournalError as exc:
                    self._journal_ok = False
                    message = self._redact(one_line(exc.strerror or str(exc)))
                    self.mark_broken(message)
                    warning = Event(
                        event.seq, event.ts, ev.WARNING, {"message": message, "journal_failed": True, "at": kind}
                    )
                    if unjournaled is not None:
                        event = Event(event.seq, event.ts, kind, unjournaled(dict(event.data)))
            self._take(event)
            self.deliver(event)
            if warning is not None:
                # Kept in memory (not on disk, which just failed): the record written from this
                # process says the journal failed and where.
                self._take(warning)
                self.deliver(warning)
        return event

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
        self._pool.shutdown(wait=True)
