"""``rbconsole run FILE --plan ID ...``: headless execution for automation and CI.

Exit status: 0 when every step and verification passed, 1 when one failed or the run was
aborted, 2 for bad usage or an invalid runbook (each problem printed as file:line:col).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from tui.cli import EXIT_FAILED, EXIT_USAGE


def parse_vars(pairs: list[str]) -> dict[str, str]:
    """``--var k=v`` pairs; raises ValueError naming the bad one."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--var {pair!r}: write it as NAME=VALUE")
        values[name.strip()] = value
    return values


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """``--override CHECK_ID=REASON`` pairs; raises ValueError naming the bad one (a reason is required)."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, reason = pair.partition("=")
        if not sep or not name.strip() or not reason.strip():
            raise ValueError(f"--override {pair!r}: write it as CHECK_ID=REASON (the reason is journaled)")
        overrides[name.strip()] = reason.strip()
    return overrides


def main(args: argparse.Namespace) -> int:
    from tui.engine.headless import HeadlessOptions, cancel_on_signals, run_headless
    from tui.engine.session import StartOptions
    from tui.runbook.loader import load

    loaded = load(args.file)
    if not loaded.ok or loaded.runbook is None:
        for problem in loaded.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    if not args.plan:
        plans = ", ".join(loaded.runbook.plans)
        print(f"rbconsole run: {args.file}: --plan is required (plans: {plans})", file=sys.stderr)
        return EXIT_USAGE
    try:
        values = parse_vars(args.var)
        overrides = parse_overrides(args.override)
    except ValueError as exc:
        print(f"rbconsole run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    start = StartOptions(
        operator=args.operator,
        reason=args.reason or "",
        severity=args.severity,
        values=values,
        profile=args.profile,
        dry_run=args.dry_run,
        yes=args.yes,
        plan=args.plan,
        ssh_config=args.ssh_config,
        known_hosts=args.known_hosts,
        with_steps=tuple(args.with_steps),
    )
    options = HeadlessOptions(start, record=args.record, overrides=overrides, force=args.force)
    try:
        return asyncio.run(cancel_on_signals(run_headless(loaded.runbook, args.file, options)))
    except Exception as exc:  # the command's edge: one line for the operator, never a traceback
        print(f"rbconsole run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
