"""The ``rbconsole`` command line: argument parsing only; each command lives in ``tui.commands``.

Commands are imported when chosen, so ``rbconsole --version`` loads nothing heavy.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from tui import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plan", metavar="ID", help="the plan to run")
    p.add_argument("--var", action="append", default=[], metavar="K=V", help="set a param or var (repeatable)")
    p.add_argument("--profile", metavar="P", help="a [profiles.P] of the runbook (e.g. staging)")
    p.add_argument(
        "--dry-run", action="store_true", help="print every resolved command, request and query; run nothing"
    )
    p.add_argument("--yes", action="store_true", help="answer every confirmation and manual step with yes (recorded)")
    p.add_argument("--operator", metavar="NAME", help="who the record names (default: the login name)")
    p.add_argument("--reason", metavar="TEXT", help="why this rollback is happening")
    p.add_argument("--severity", metavar="LEVEL", help="the incident's severity level (e.g. P0)")
    p.add_argument("--record", metavar="OUT.md", help="write the rollback record here when done")
    p.add_argument("--ssh-config", metavar="F", help="ssh_config file (overrides the runbook's [ssh] config)")
    p.add_argument("--known-hosts", metavar="F", help="known_hosts file (overrides the runbook's [ssh] known_hosts)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rbconsole",
        description="A terminal runbook console for production rollbacks, incident response and drills.",
    )
    parser.add_argument("--version", action="version", version=f"rbconsole {__version__}")
    parser.add_argument("--runbooks", action="append", default=[], metavar="DIR", help="another runbook folder")
    parser.add_argument("--operator", metavar="NAME", help="who the record names (default: the login name)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("open", help="the console straight on one runbook")
    p.add_argument("file", metavar="FILE")

    p = sub.add_parser("validate", help="check runbooks; file:line:col: message per problem")
    p.add_argument("files", nargs="+", metavar="FILE")

    p = sub.add_parser("run", help="headless execution for automation and CI")
    p.add_argument("file", metavar="FILE")
    _add_run_options(p)

    p = sub.add_parser("drill", help="a timed, clearly marked rehearsal (console, or --headless)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--scenario", metavar="S", help="a [[drills]] scenario id")
    p.add_argument("--headless", action="store_true", help="run without the console")
    _add_run_options(p)

    p = sub.add_parser("export", help="render the record of a recorded session")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--format", choices=["md", "json"], default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")

    sub.add_parser("sessions", help="list recorded sessions")

    p = sub.add_parser("resume", help="reopen an interrupted session where it stopped")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--headless", action="store_true", help="continue without the console")
    p.add_argument("--yes", action="store_true", help="answer confirmations with yes (recorded)")
    p.add_argument("--record", metavar="OUT.md")
    p.add_argument("--ssh-config", metavar="F")
    p.add_argument("--known-hosts", metavar="F")

    sub.add_parser("schema", help="print the JSON Schema of the runbook format")

    p = sub.add_parser("import", help="turn a Markdown rollback plan into a runbook skeleton")
    p.add_argument("plan", metavar="PLAN.md")
    p.add_argument("-o", "--output", metavar="FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "console"
    # Local steps reach the interpreter rbconsole runs on (the demo's service lives in this
    # package, which a bare `python3` on PATH may not have).
    os.environ.setdefault("RBCONSOLE_PYTHON", sys.executable)
    module = importlib.import_module(f"tui.commands.{command.replace('-', '_')}")
    try:
        return int(module.main(args) or 0)
    except KeyboardInterrupt:
        print("rbconsole: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILED
