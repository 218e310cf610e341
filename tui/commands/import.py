"""``rbconsole import PLAN.md [-o FILE] [--force]``: a Markdown rollback plan as a runbook.

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


def main(args: argparse.Namespace) -> int:
    source = Path(args.plan)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"rbconsole import: cannot read {source}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 1
    try:
        imported = build(text.replace("\x00", ""), source.name)
        runbook = finish(imported.runbook)
        output = f"# Imported by `rbconsole import` from {source.name}: a draft to review before use.\n\n"
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
    target = args.output or "<import>"
    loaded = load_text(output, target)
    for line in imported.coverage.report(source.name):
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
    if args.output:
        Path(args.output).write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    return 0 if loaded.ok else 1
