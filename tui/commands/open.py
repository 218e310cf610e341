"""``rbconsole open FILE``: the console straight on one runbook's overview."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(args: argparse.Namespace) -> int:
    if not Path(args.file).is_file():
        print(f"rbconsole: {args.file}: no such runbook file", file=sys.stderr)
        return 2
    from tui.app import create_app

    app = create_app(args.file, runbook_dirs=args.runbooks, operator=args.operator)
    return app.run() or 0
