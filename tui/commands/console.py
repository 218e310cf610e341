"""``rbconsole`` with no command: the console on the runbook picker."""

from __future__ import annotations

import argparse
import sys

from tui.engine.results import EXIT_USAGE


def main(args: argparse.Namespace) -> int:
    from tui.commands.options import start_options

    try:
        start = start_options(args)
    except ValueError as exc:
        print(f"rbconsole: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from tui.app import create_app

    app = create_app(start=start, runbook_dirs=args.runbooks, theme=getattr(args, "theme", None))
    return app.run() or 0
