"""``rbconsole`` with no command: the console on the runbook picker."""

from __future__ import annotations

import argparse


def main(args: argparse.Namespace) -> int:
    from tui.app import create_app

    app = create_app(runbook_dirs=args.runbooks, operator=args.operator)
    return app.run() or 0
