"""``rbconsole drill FILE [--plan ID] [--scenario S] [--profile P] [--headless] ...``: a timed, marked rehearsal.

Without ``--headless`` it opens the console in drill mode. Headless, it runs the session with the
shared headless runner (scenario setup first, teardown always, also after a failure, Ctrl-C or
SIGTERM), then folds the journal into a drill summary, compares it with the drill history,
prints the time against the target and the drift, keeps the summary in the history, and
appends the drill report to the record.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tui.commands.options import load_runbook, parse_overrides, parse_vars, start_options
from tui.drill.scenario import DrillChoice, DrillChoiceError, choose
from tui.engine.results import EXIT_FAILED, EXIT_USAGE
from tui.runbook.model import Runbook

if TYPE_CHECKING:
    from tui.engine.api import StartOptions
    from tui.headless.runner import HeadlessOptions


def main(args: argparse.Namespace) -> int:
    runbook = load_runbook(args.file)
    if runbook is None:
        return EXIT_USAGE
    try:
        choice = choose(runbook, args.plan, args.scenario, args.profile)
        values = parse_vars(args.var)
        overrides = parse_overrides(args.override)
    except (DrillChoiceError, ValueError) as exc:
        print(f"rbconsole drill: {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.headless:
        if overrides:
            print("rbconsole drill: --override goes with --headless (the console asks for a reason)", file=sys.stderr)
        if args.with_steps:
            print(
                "rbconsole drill: --with goes with --headless (the console asks about optional steps)", file=sys.stderr
            )
            return EXIT_USAGE
        return _console(args, choice, values)
    return _headless(args, runbook, choice, values)


def _chosen(choice: DrillChoice, values: dict[str, str]) -> dict[str, Any]:
    """What the drill decided over the flags: a drill, of this plan and scenario, under this profile."""
    return {
        "mode": "drill",
        "plan": choice.plan,
        "scenario": choice.scenario_id,
        "profile": choice.profile,
        "values": values,
    }


def _console(args: argparse.Namespace, choice: DrillChoice, values: dict[str, str]) -> int:
    from tui.app import create_app

    # The console asks its own questions: --yes and --with are for --headless.
    start = start_options(args, **_chosen(choice, values), yes=False, with_steps=())
    app = create_app(args.file, start=start, theme=getattr(args, "theme", None))
    app.run()
    return int(app.return_code or 0)


def _headless(
    args: argparse.Namespace, runbook: Runbook, choice: DrillChoice, values: dict[str, str], out: TextIO | None = None
) -> int:
    from tui.engine.store import session_dirs
    from tui.headless.runner import HeadlessOptions

    out = out or sys.stdout
    if args.dry_run:
        values = _dry_run_stand_ins(runbook, values, out)
    scenario = choice.scenario
    target = f"target {choice.target_minutes:g} min" if choice.target_minutes else "no target time"
    about = f"scenario {scenario.id}: {scenario.title}" if scenario else "no scenario: the plan alone"
    print(f"== DRILL == {runbook.id} plan {choice.plan} ({target}); {about}", file=out, flush=True)
    reason = args.reason or f"drill: {scenario.title if scenario else runbook.plans[choice.plan].title}"
    start: StartOptions = start_options(args, **_chosen(choice, values), reason=reason)
    options = HeadlessOptions(
        start,
        record=args.record,
        setup=tuple(scenario.setup) if scenario else (),
        teardown=tuple(scenario.teardown) if scenario else (),
        overrides=parse_overrides(args.override),
    )
    before = set(session_dirs())
    code, interrupted = asyncio.run(_run(runbook, args.file, options, out))
    session = _this_session(set(session_dirs()) - before)
    if session is None:
        return code if not interrupted else EXIT_FAILED
    _conclude(runbook, session, args.record, out)
    return EXIT_FAILED if interrupted else code


def _dry_run_stand_ins(runbook: Runbook, values: dict[str, str], out: TextIO) -> dict[str, str]:
    """Stand-ins for required params, so any runbook drills in dry-run with no input (the engine
    stands in for the plan's unset secrets itself, and journals each as a warning).

    A dry run executes nothing, so these values only ever appear in the printed commands (a
    secret's stand-in is redacted like any secret); the record shows the params as given.
    """
    filled = dict(values)
    for name, param in runbook.params.items():
        if name in filled or param.default is not None or not param.required or name == "reason":
            continue
        typed = {"choice": (param.choices or [""])[0], "int": "0", "bool": "false", "duration": "1m"}.get(param.type)
        version = runbook.target_version
        candidates = [typed] if typed is not None else [f"DRILL-{name}", version, version.lstrip("vV"), "0", "0.0.0"]
        stand_in = next((c for c in candidates if c and (not param.pattern or re.fullmatch(param.pattern, c))), None)
        if stand_in is None:
            continue  # the session will ask for it by name: no stand-in fits its pattern
        filled[name] = stand_in
        print(f"== DRILL == dry run: param {name} = {stand_in!r} (choose with --var {name}=...)", file=out)
    return filled


async def _run(runbook: Runbook, path: str, options: HeadlessOptions, out: TextIO) -> tuple[int, bool]:
    """The headless run with Ctrl-C and SIGTERM turned into a cancel, so teardown still runs; the exit
    status and whether it was interrupted (the runner turns the cancel into an aborted session)."""
    from tui.headless.runner import run_headless

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    interrupts = 0

    def interrupt() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            print("\n== DRILL == interrupted: aborting, then tearing the scenario down", file=out, flush=True)
            task.cancel()
        else:
            print("== DRILL == still tearing down (each teardown step has its timeout)", file=out, flush=True)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupt)
    try:
        code = await run_headless(runbook, path, options, out)
    except asyncio.CancelledError:
        code = EXIT_FAILED
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return code, interrupts > 0


def _this_session(new: set[Path]) -> Path | None:
    """The session this process just ran (another drill may have started one meanwhile)."""
    from tui.engine.journal import JOURNAL_NAME, read_events

    for directory in sorted(new, reverse=True):
        events = read_events(directory / JOURNAL_NAME)
        if events and events[0].data.get("pid") == os.getpid() and events[0].data.get("mode") == "drill":
            return directory
    return None


def _conclude(runbook: Runbook, session: Path, record: str | None, out: TextIO) -> None:
    from tui.drill.finish import finish
    from tui.drill.format import against_target
    from tui.engine.journal import JOURNAL_NAME, read_events
    from tui.engine.results import label

    try:
        done = finish(runbook, read_events(session / JOURNAL_NAME), session)
    except OSError as exc:
        print(f"rbconsole drill: cannot keep the drill history: {exc.strerror or exc}", file=sys.stderr)
        return
    run = done.run
    print(f"== DRILL == {label(run.result)}: {against_target(run.seconds, run.target_minutes, run.result)}", file=out)
    for text in done.drifts:
        print(f"== DRILL == drift: {text}", file=out)
    if done.earlier:
        print(f"== DRILL == {len(done.earlier)} earlier drill(s) of this plan; trend in the report", file=out)
    if done.report_path is not None:
        print(f"== DRILL == report: {done.report_path}", file=out)
    if record:
        try:
            with open(record, "a", encoding="utf-8") as handle:
                handle.write("\n" + done.report)
        except OSError as exc:
            print(f"rbconsole drill: cannot write the drill report to {record}: {exc.strerror or exc}", file=sys.stderr)
