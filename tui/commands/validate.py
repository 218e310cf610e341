"""``rbconsole validate FILE...``: every problem as ``file:line:col: message``; exit 0 only if all are valid.

The results (each problem, each ``FILE: ok``) go to stdout; the count of invalid runbooks is a
diagnostic on stderr. ``-`` reads a runbook from standard input (named ``<stdin>``).
"""

from __future__ import annotations

import argparse
import sys

from tui.runbook.loader import MAX_BYTES, Loaded, load, load_bytes

STDIN = "<stdin>"


def _load(name: str) -> Loaded:
    if name != "-":
        return load(name)
    return load_bytes(sys.stdin.buffer.read(MAX_BYTES + 1), STDIN)


def main(args: argparse.Namespace) -> int:
    failed = 0
    for name in args.files:
        loaded = _load(name)
        for problem in loaded.problems:
            print(problem)
        if loaded.ok:
            print(f"{STDIN if name == '-' else name}: ok")
        else:
            failed += 1
    if failed:
        print(f"{failed} of {len(args.files)} runbook(s) invalid", file=sys.stderr)
    return 1 if failed else 0
