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


# Global flags work on either side of the subcommand (``rbconsole --operator ana run ...`` and
# ``rbconsole run ... --operator ana``). The top-level parser holds their defaults; each
# subcommand's copy defaults to SUPPRESS so an absent flag never hides one given before it.
# A repeatable flag's copy goes to its own dest, and :func:`_merge` appends it to the top's.
GLOBAL = "global"
TARGETING = "targeting"
_SUB = "_after_command"


def _flags(p: argparse.ArgumentParser, which: str, *, sub: bool) -> None:
    def add(*names: str, repeat: bool = False, **kw: object) -> None:
        dest = names[0].lstrip("-").replace("-", "_")
        if sub:
            kw["default"] = argparse.SUPPRESS
            if repeat:
                kw["dest"] = dest + _SUB
        elif repeat:
            kw["default"] = []
        p.add_argument(*names, action="append" if repeat else "store", **kw)  # type: ignore[arg-type]

    if which == GLOBAL:
        add("--runbooks", repeat=True, metavar="DIR", help="another runbook folder (repeatable)")
        add("--operator", metavar="NAME", help="who the record names (default: the login name)")
        add("--ssh-config", metavar="F", help="ssh_config file (overrides the runbook's [ssh] config)")
        add("--known-hosts", metavar="F", help="known_hosts file (overrides the runbook's [ssh] known_hosts)")
    else:
        add("--var", repeat=True, metavar="K=V", help="set a param or var (repeatable)")
        add("--profile", metavar="P", help="a [profiles.P] of the runbook (e.g. staging, lab)")


def _merge(args: argparse.Namespace) -> argparse.Namespace:
    for name in ("runbooks", "var"):
        after = getattr(args, name + _SUB, None)
        if after is not None:
            setattr(args, name, [*getattr(args, name, []), *after])
            delattr(args, name + _SUB)
    return args


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plan", metavar="ID", help="the plan to run")
    p.add_argument(
        "--dry-run", action="store_true", help="print every resolved command, request and query; run nothing"
    )
    p.add_argument("--yes", action="store_true", help="answer every confirmation and manual step with yes (recorded)")
    p.add_argument("--reason", metavar="TEXT", help="why this rollback is happening")
    p.add_argument("--severity", metavar="LEVEL", help="the incident's severity level (e.g. P0)")
    p.add_argument("--record", metavar="OUT.md", help="write the rollback record here when done")
    _add_override(p)
    p.add_argument(
        "--with",
        dest="with_steps",
        action="append",
        default=[],
        metavar="STEP_ID",
        help="run this optional step headless (repeatable; otherwise optional steps are skipped)",
    )


def _add_override(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="CHECK_ID=REASON",
        help="go past a failed blocking pre-check on purpose, saying why (repeatable; journaled)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rbconsole",
        description="A terminal runbook console for production rollbacks, incident response and drills.",
    )
    parser.add_argument("--version", action="version", version=f"rbconsole {__version__}")
    _flags(parser, GLOBAL, sub=False)
    _flags(parser, TARGETING, sub=False)  # for the console on the picker (no subcommand)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    _flags(common, GLOBAL, sub=True)
    targeting = argparse.ArgumentParser(add_help=False)
    _flags(targeting, TARGETING, sub=True)

    def command(name: str, help: str, *, targets: bool = False) -> argparse.ArgumentParser:
        parents = [common, targeting] if targets else [common]
        return sub.add_parser(name, help=help, parents=parents)

    p = command("open", "the console straight on one runbook", targets=True)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--plan", metavar="ID", help="with --reason: start the incident on this plan at once")
    p.add_argument("--reason", metavar="TEXT", help="what went wrong (the incident form's reason)")

    p = command("validate", "check runbooks; file:line:col: message per problem")
    p.add_argument("files", nargs="+", metavar="FILE")

    p = command("run", "headless execution for automation and CI", targets=True)
    p.add_argument("file", metavar="FILE")
    _add_run_options(p)
    p.add_argument("--force", action="store_true", help="run even while another live session runs this plan")

    p = command("drill", "a timed, clearly marked rehearsal (console, or --headless)", targets=True)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--scenario", metavar="S", help="a [[drills]] scenario id")
    p.add_argument("--headless", action="store_true", help="run without the console")
    _add_run_options(p)

    p = command("export", "render the record of a recorded session")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--format", choices=["md", "json"], default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")

    command("sessions", "list recorded sessions")

    p = command("resume", "reopen an interrupted session where it stopped", targets=True)
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--headless", action="store_true", help="continue without the console")
    p.add_argument("--yes", action="store_true", help="answer confirmations with yes (recorded)")
    p.add_argument("--record", metavar="OUT.md")
    _add_override(p)
    p.add_argument(
        "--with",
        dest="with_steps",
        action="append",
        default=[],
        metavar="STEP_ID",
        help="run this optional step headless (repeatable; otherwise optional steps are skipped)",
    )

    command("schema", "print the JSON Schema of the runbook format")

    p = command("import", "turn a Markdown rollback plan into a runbook skeleton")
    p.add_argument("plan", metavar="PLAN.md")
    p.add_argument("-o", "--output", metavar="FILE")
    p.add_argument("--force", action="store_true", help="write the runbook even when it does not validate")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, global flags merged from both sides of the subcommand (exits 2 on bad usage)."""
    parser = build_parser()
    args = _merge(parser.parse_args(argv))
    args.command = args.command or "console"
    if args.command not in ("console", "open", "run", "drill", "resume") and (args.var or args.profile):
        parser.error(f"--var and --profile do not apply to {args.command}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = args.command
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
