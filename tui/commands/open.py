"""``rbconsole open FILE``: the console straight on one runbook's overview."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tui.cli import EXIT_USAGE


def console_targets(args: argparse.Namespace) -> dict[str, Any]:
    """What the targeting flags set for a console session (the incident form shows them)."""
    from tui.commands.run import parse_vars

    return {
        "operator": args.operator,
        "profile": args.profile,
        "ssh_config": args.ssh_config,
        "known_hosts": args.known_hosts,
        "values": parse_vars(args.var),
    }


def main(args: argparse.Namespace) -> int:
    if not Path(args.file).is_file():
        print(f"rbconsole: {args.file}: no such runbook file", file=sys.stderr)
        return EXIT_USAGE
    try:
        targets = console_targets(args)
    except ValueError as exc:
        print(f"rbconsole open: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from tui.app import create_app

    if args.plan:
        from tui.runbook.loader import load

        loaded = load(args.file)
        if loaded.runbook is not None and args.plan not in loaded.runbook.plans:
            known = ", ".join(loaded.runbook.plans)
            print(f"rbconsole: {args.file}: plan {args.plan!r} is not defined (known: {known})", file=sys.stderr)
            return EXIT_USAGE

    app = create_app(args.file, runbook_dirs=args.runbooks, plan=args.plan, reason=args.reason, **targets)
    return app.run() or 0
