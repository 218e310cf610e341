"""``rbconsole export SESSION [--format md|json] [-o FILE]``: the record of a recorded session,
live, finished or crashed, rendered from its journal alone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.engine.results import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def main(args: argparse.Namespace) -> int:
    from tui.engine.journal import JOURNAL_NAME, read_events
    from tui.engine.store import SessionNotFound, find, is_live
    from tui.record import render_json, render_markdown

    try:
        directory = find(args.session)
        events = read_events(directory / JOURNAL_NAME)
    except SessionNotFound as exc:
        print(f"rbconsole export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"rbconsole export: cannot read the journal of {args.session}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    if not events:
        print(f"rbconsole export: session {directory.name} has an empty journal", file=sys.stderr)
        return EXIT_FAILED
    live = is_live(directory)
    text = render_json(events, live=live) if args.format == "json" else render_markdown(events, live=live)
    if not args.output or args.output == "-":
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"rbconsole export: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.output}: record of session {directory.name}", file=sys.stderr)
    return EXIT_OK
