"""The headless runner shared by ``rbconsole run``, ``resume --headless`` and ``drill --headless``.

It drives a :class:`~tui.engine.session.Session` from start to end without a console: output
goes to ``out`` with ``[host] `` prefixes, a destructive or manual step is asked on the
terminal (or answered by ``--yes``; with no TTY it fails clearly), and the exit status is 0
only if the session ended "success".
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from tui.engine.session import StartOptions
from tui.runbook.model import Runbook, Step


@dataclass(frozen=True)
class HeadlessOptions:
    start: StartOptions
    record: str | None = None  # write the Markdown record here at the end
    setup: Sequence[Step] = ()  # drill scenario setup, run before the pre-checks
    teardown: Sequence[Step] = ()  # always run at the end (after a failure or an abort too)
    stop_on_blocking: bool = True  # a failed blocking pre-check stops the run unless --yes


async def run_headless(runbook: Runbook, runbook_path: str, options: HeadlessOptions, out: TextIO = sys.stdout) -> int:
    """Run options.start.plan end to end; return the exit status (0 success, 1 otherwise)."""
    raise NotImplementedError


async def resume_headless(
    ref: str, *, yes: bool = False, record: str | None = None, out: TextIO = sys.stdout, **ssh: str | None
) -> int:
    """Continue a recorded session at its first unfinished step; return the exit status."""
    raise NotImplementedError
