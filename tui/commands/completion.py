"""``rbconsole completion bash|zsh``: a shell completion script, generated from the parser itself.

shtab writes a static script (Tab never starts Python): subcommands, each command's flags,
files for FILE arguments and folders for ``--runbooks``.
"""

from __future__ import annotations

import argparse
import sys

from tui.engine.results import EXIT_FAILED, build_parser


def main(args: argparse.Namespace) -> int:
    try:
        import shtab
    except ImportError:  # an install that skipped the dependency (a stale virtualenv)
        print("rbconsole completion: needs the shtab package (pip install shtab)", file=sys.stderr)
        return EXIT_FAILED
    parser = build_parser({"FILE": shtab.FILE, "DIRECTORY": shtab.DIRECTORY})
    script = shtab.complete(parser, shell=args.shell)
    sys.stdout.write(script if script.endswith("\n") else script + "\n")
    return 0
