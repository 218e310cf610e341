"""``rbconsole run FILE --plan ID ...``: headless execution for automation and CI.

Exit status: 0 when every step and verification passed, 1 when one failed or the run was
aborted, 2 for bad usage or an invalid runbook (each problem printed as file:line:col).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from tui.engine.results import EXIT_USAGE


def main(args: argparse.Namespace) -> int:
    from tui.commands.options import headless_flags, load_runbook
    from tui.headless.runner import HeadlessOptions, cancel_on_signals, run_headless

    runbook = load_runbook(args.file)
    if runbook is None:
        return EXIT_USAGE
    if not args.plan:
        plans = ", ".join(runbook.plans)
        print(f"rbconsole run: {args.file}: --plan is required (plans: {plans})", file=sys.stderr)
        return EXIT_USAGE
    try:
        start, overrides = headless_flags(args)
    except ValueError as exc:
        print(f"rbconsole run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    options = HeadlessOptions(start, record=args.record, overrides=overrides, force=args.force)
    # An unexpected error is one line at the command line's edge (tui.cli), its cause in the log.
    return asyncio.run(cancel_on_signals(run_headless(runbook, args.file, options)))
