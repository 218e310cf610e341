"""``rbconsole validate FILE...``: every problem as ``file:line:col: message``; exit 0 only if all are valid."""

from __future__ import annotations

import argparse
import sys

from tui.runbook.loader import load


def main(args: argparse.Namespace) -> int:
    failed = 0
    for name in args.files:
        loaded = load(name)
        for problem in loaded.problems:
            print(problem)
        if loaded.ok:
            print(f"{name}: ok", file=sys.stderr)
        else:
            failed += 1
    if failed:
        print(f"{failed} of {len(args.files)} runbook(s) invalid", file=sys.stderr)
    return 1 if failed else 0
