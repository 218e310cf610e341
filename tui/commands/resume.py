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

from tui.cli import EXIT_FAILED, EXIT_USAGE


def main(args: argparse.Namespace) -> int:
    from tui.commands.run import parse_vars

    try:
        values = parse_vars(args.var)
    except ValueError as exc:
        print(f"rbconsole resume: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.headless and sys.stdin.isatty() and sys.stdout.isatty():
        return _console(args, values)
    from tui.commands.run import parse_overrides
    from tui.engine.headless import cancel_on_signals, resume_headless

    try:
        overrides = parse_overrides(args.override)
    except ValueError as exc:
        print(f"rbconsole resume: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(
            cancel_on_signals(
                resume_headless(
                    args.session,
                    yes=args.yes,
                    record=args.record,
                    ssh_config=args.ssh_config,
                    known_hosts=args.known_hosts,
                    operator=args.operator,
                    values=values,
                    profile=args.profile,
                    overrides=overrides,
                    with_steps=tuple(getattr(args, "with_steps", ())),
                )
            )
        )
    except Exception as exc:  # the command's edge: one line for the operator, never a traceback
        print(f"rbconsole resume: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _console(args: argparse.Namespace, values: dict[str, str]) -> int:
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

    app = create_app(
        resume=args.session,
        operator=args.operator,
        ssh_config=args.ssh_config,
        known_hosts=args.known_hosts,
        profile=args.profile,
        values=values,
    )
    return app.run() or 0
