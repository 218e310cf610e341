"""``rbconsole resume SESSION [--headless] [--yes]``: continue an interrupted session.

Headless, it continues at the first step not finished. A step that was running when the
process died has an unknown outcome: it is asked about (``--yes`` answers "re-run"), and
without a terminal or ``--yes`` the resume stops and says so, never assuming it done.
Without ``--headless`` on a terminal, the questions are asked there.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from tui.cli import EXIT_FAILED


def main(args: argparse.Namespace) -> int:
    from tui.engine.headless import cancel_on_signals, resume_headless

    try:
        return asyncio.run(
            cancel_on_signals(
                resume_headless(
                    args.session,
                    yes=args.yes,
                    record=args.record,
                    ssh_config=args.ssh_config,
                    known_hosts=args.known_hosts,
                    operator=getattr(args, "operator", None),
                )
            )
        )
    except Exception as exc:  # the command's edge: one line for the operator, never a traceback
        print(f"rbconsole resume: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
