"""``rbconsole import PLAN.md [-o FILE] [--force]``: a Markdown rollback plan as a runbook.

``-`` as PLAN.md reads the document from standard input (its lines are named ``<stdin>:LINE``);
without ``-o``, or with ``-o -``, the runbook goes to stdout. The report is always on stderr.

A coverage report goes to stderr on every import: how many of the document's commands became
runnable steps, how many manual steps and why, and each one that was lost, with its line. A runbook
that does not validate is never written (exit 1, each problem named) unless ``--force``. The module
name is a keyword; the CLI imports it with ``importlib``.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

import tomli_w

from tui.importer.build import build, finish
from tui.paths import log_file
from tui.runbook.loader import load_text

STDIN = "<stdin>"


def _read(plan: str) -> tuple[str, str]:
    """The document's text and the name its lines are reported under."""
    if plan == "-":
        return sys.stdin.buffer.read().decode("utf-8"), STDIN
    return Path(plan).read_text(encoding="utf-8"), Path(plan).name


def main(args: argparse.Namespace) -> int:
    source = STDIN if args.plan == "-" else args.plan
    try:
        text, name = _read(args.plan)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"rbconsole import: cannot read {source}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 1
    try:
        imported = build(text.replace("\x00", ""), name)
        runbook = finish(imported.runbook)
        output = f"# Imported by `rbconsole import` from {name}: a draft to review before use.\n\n"
        output += tomli_w.dumps(runbook, multiline_strings=True)
    except Exception as exc:  # the edge of the command: a one-line message, the cause in the log
        log = log_file("import")
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as out:
            out.write(f"--- {source}\n{traceback.format_exc()}\n")
        print(
            f"rbconsole import: {source}: could not be imported ({type(exc).__name__}); the cause is in {log}",
            file=sys.stderr,
        )
        return 1
    to_file = bool(args.output) and args.output != "-"
    loaded = load_text(output, args.output if to_file else "<import>")
    for line in imported.coverage.report(name):
        print(line, file=sys.stderr)
    steps = sum(len(p["steps"]) for p in runbook["plans"].values())
    print(
        f"imported {len(runbook['plans'])} plan(s), {steps} step(s), {len(runbook.get('checks', []))} check(s), "
        f"{len(runbook.get('severity', []))} severity level(s), {len(runbook.get('contacts', []))} contact(s)",
        file=sys.stderr,
    )
    if not loaded.ok:
        for problem in loaded.problems:
            print(f"rbconsole import: {problem}", file=sys.stderr)
        if not getattr(args, "force", False):
            print(
                "rbconsole import: the runbook does not validate; nothing written (--force writes it anyway)",
                file=sys.stderr,
            )
            return 1
    if to_file:
        Path(args.output).write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    return 0 if loaded.ok else 1
