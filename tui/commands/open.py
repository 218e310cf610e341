"""``rbconsole open FILE``: the console straight on one runbook's overview."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.commands.options import start_options
from tui.engine.results import EXIT_USAGE


def main(args: argparse.Namespace) -> int:
    if not Path(args.file).is_file():
        print(f"rbconsole: {args.file}: no such runbook file", file=sys.stderr)
        return EXIT_USAGE
    try:
        start = start_options(args)
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

    app = create_app(args.file, start=start, runbook_dirs=args.runbooks, theme=getattr(args, "theme", None))
    return app.run() or 0
