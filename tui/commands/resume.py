"""``rbconsole resume SESSION [--headless] [--yes]``: continue an interrupted session.

Headless, it continues at the first step not finished. A step that was running when the
process died has an unknown outcome: it is asked about (``--yes`` answers "re-run"), and
without a terminal or ``--yes`` the resume stops and says so, never assuming it done.
Without ``--headless`` on a terminal, the console opens on the session where it stopped (an
ended one read-only, to view and export); off a terminal it continues as with ``--headless``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from tui.engine.results import EXIT_USAGE

if TYPE_CHECKING:
    from tui.engine.api import StartOptions


def main(args: argparse.Namespace) -> int:
    from tui.commands.options import headless_flags

    try:
        start, overrides = headless_flags(args)
    except ValueError as exc:
        print(f"rbconsole resume: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.headless and sys.stdin.isatty() and sys.stdout.isatty():
        return _console(args, start)
    from tui.headless.runner import cancel_on_signals, resume_headless

    # An unexpected error is one line at the command line's edge (tui.cli), its cause in the session's log.
    resumed = resume_headless(
        args.session,
        yes=args.yes,
        record=args.record,
        overrides=overrides,
        with_steps=start.with_steps,
        **start.reopening(),
    )
    return asyncio.run(cancel_on_signals(resumed))


def _console(args: argparse.Namespace, start: StartOptions) -> int:
    from tui.engine.store import SessionNotFound, find

    if args.yes or args.record or args.override or getattr(args, "with_steps", ()):
        print("rbconsole resume: --yes, --record, --override and --with go with --headless", file=sys.stderr)
        return EXIT_USAGE
    try:
        find(args.session)  # a mistyped id is one line here, not a console that opens on nothing
    except SessionNotFound as exc:
        print(f"rbconsole resume: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from tui.app import create_app

    app = create_app(resume=args.session, start=start, theme=getattr(args, "theme", None))
    return app.run() or 0
