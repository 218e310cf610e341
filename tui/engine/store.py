"""Recorded sessions on disk: listing them and finding one by id or unique id prefix."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from tui import paths
from tui.engine.journal import JOURNAL_NAME, read_events
from tui.engine.lock import LOCK_NAME
from tui.engine.state import SessionState, fold


class SessionNotFound(LookupError):
    """No session, or more than one, matches; the message is one line for the operator."""


@dataclass
class SessionInfo:
    id: str
    dir: Path
    state: SessionState
    live: bool  # another process holds the session's lock right now

    @property
    def status(self) -> str:
        """running | success | partial | failed | aborted | interrupted"""
        if self.state.result:
            return self.state.result
        return "running" if self.live else "interrupted"


def is_live(directory: Path) -> bool:
    """True if some process holds the session's lock (it is being run right now)."""
    try:
        fd = os.open(directory / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def session_dirs() -> list[Path]:
    root = paths.sessions_dir()
    if not root.is_dir():
        return []
    return sorted(d for d in root.iterdir() if (d / JOURNAL_NAME).is_file())


def info(directory: Path) -> SessionInfo:
    live = is_live(directory)
    return SessionInfo(directory.name, directory, fold(read_events(directory / JOURNAL_NAME), live=live), live)


def list_sessions() -> list[SessionInfo]:
    """Oldest first by the moment each started: ids carry whole seconds only, so two sessions
    started within one second would otherwise be listed in the order of their random parts."""
    return sorted((info(d) for d in session_dirs()), key=lambda s: (s.state.started or 0.0, s.id))


def find(ref: str) -> Path:
    """The folder of the session ``ref`` names: an id, a unique prefix of one, or a unique
    prefix of its random part (the bit after the timestamp)."""
    ref = ref.strip()
    if not ref or "/" in ref or ref in (".", ".."):
        raise SessionNotFound(f"{ref!r} is not a session id")
    dirs = session_dirs()
    exact = [d for d in dirs if d.name == ref]
    if exact:
        return exact[0]
    matches = [d for d in dirs if d.name.startswith(ref) or d.name.rsplit("-", 1)[-1].startswith(ref)]
    if not matches:
        raise SessionNotFound(f"no session matches {ref!r} (see `rbconsole sessions`)")
    if len(matches) > 1:
        shown = ", ".join(d.name for d in matches[:5])
        raise SessionNotFound(f"{ref!r} matches {len(matches)} sessions ({shown}); give more of the id")
    return matches[0]


def live_runs(runbook_id: str, plan: str, exclude: str = "") -> list[str]:
    """One line per other session running ``plan`` of this runbook live right now (not a dry
    run, not a drill): its id, its operator and what it is doing."""
    found = []
    for directory in session_dirs():
        if directory.name == exclude or not is_live(directory):
            continue
        state = info(directory).state
        meta = state.meta
        if meta.get("runbook_id") != runbook_id or meta.get("mode") != "live" or meta.get("dry_run"):
            continue
        if (state.plan or meta.get("plan")) != plan or state.result:
            continue
        found.append(f"session {directory.name} (operator {meta.get('operator') or '?'}, {_doing(state)})")
    return found


def _doing(state: SessionState) -> str:
    ongoing = state.ongoing
    if ongoing:
        action = ongoing[-1]
        return f"running {action.phase} {action.id}" + (f": {action.title}" if action.title else "")
    done = [a for a in state.actions.values() if a.phase == "step" and a.status != "pending"]
    if done:
        return f"last finished step {done[-1].id} ({done[-1].status})"
    return "plan chosen, no step run yet" if state.plan else "not yet at the plan"
