"""The headless runner shared by ``rbconsole run``, ``resume --headless`` and ``drill --headless``.

It drives a :class:`~tui.engine.session.Session` from start to end without a console: output
goes to ``out`` with ``[host] `` prefixes, a destructive or manual step is asked on the
terminal (or answered by ``--yes``; with no TTY it fails clearly), and the exit status is 0
only if the session ended "success", or "dry_run" (it walked the plan; its problems are named in its result). Drill scenarios' ``setup`` runs first and their
``teardown`` always runs last, after a failure or an interruption too.

Cancelling the task running it (the caller turns SIGINT / SIGTERM into that, see
:func:`cancel_on_signals`) aborts the running step, journals the session as aborted, runs
the teardown and returns 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO, Unpack

from tui.drill.drift import plan_baselines
from tui.engine import store
from tui.engine.api import Reopening
from tui.engine.results import EXIT_FAILED, EXIT_USAGE, exit_status, label
from tui.engine.session import Session, SessionError, StartOptions
from tui.headless.printer import Printer, terminal_ask
from tui.record import render_markdown
from tui.runbook.model import Runbook, Step


@dataclass(frozen=True)
class HeadlessOptions:
    start: StartOptions
    record: str | None = None  # write the Markdown record here at the end
    setup: Sequence[Step] = ()  # drill scenario setup, run before the pre-checks
    teardown: Sequence[Step] = ()  # always run at the end (after a failure or an abort too)
    stop_on_blocking: bool = True  # a failed blocking pre-check stops the run before any step
    overrides: Mapping[str, str] = field(default_factory=dict)  # --override CHECK_ID=REASON
    force: bool = False  # run even while another live session runs the same plan


def _scenario_steps(runbook: Runbook, options: HeadlessOptions) -> HeadlessOptions:
    """A scenario named in the start options brings its own setup and teardown, unless given."""
    scenario = runbook.drill(options.start.scenario) if options.start.scenario else None
    if scenario is None or options.setup or options.teardown:
        return options
    return replace(options, setup=tuple(scenario.setup), teardown=tuple(scenario.teardown))


def _interactive() -> bool:
    with contextlib.suppress(ValueError, OSError):
        return sys.stdin.isatty()
    return False


async def run_headless(runbook: Runbook, runbook_path: str, options: HeadlessOptions, out: TextIO = sys.stdout) -> int:
    """Run options.start.plan end to end; return the exit status (0 success, 1 otherwise,
    2 for bad input such as an unknown plan or a missing param)."""
    options = _scenario_steps(runbook, options)
    plan = options.start.plan
    if plan is None:
        level = options.start.severity
        plan = next((s.plan for s in runbook.severity if s.level == level and s.plan), None)
    if plan is None:
        print(
            f"rbconsole: {runbook_path}: no plan given (use --plan; plans: {', '.join(runbook.plans)})", file=sys.stderr
        )
        return EXIT_USAGE
    unknown = unknown_overrides(runbook, options.overrides)
    if unknown:
        print(f"rbconsole: {runbook_path}: {unknown}", file=sys.stderr)
        return EXIT_USAGE
    if options.start.mode == "live" and not options.start.dry_run and not options.force:
        others = await asyncio.to_thread(store.live_runs, runbook.id, plan)
        if others:
            print(
                f"rbconsole: {runbook_path}: plan {plan} is already running live: {'; '.join(others)}."
                " Two runs of one rollback at once fight each other; add --force if this is meant",
                file=sys.stderr,
            )
            return EXIT_USAGE
    printer = Printer(out)
    try:
        session = Session.start(
            runbook,
            runbook_path,
            replace(options.start, plan=plan, headless=True),
            ask=terminal_ask(out) if _interactive() else None,
            baselines=plan_baselines,
        )
    except SessionError as exc:
        print(f"rbconsole: {runbook_path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    session.subscribe(printer)
    printer.opening(session)
    return await _drive(session, options, out, printer, fresh=True)


async def resume_headless(
    ref: str,
    *,
    record: str | None = None,
    out: TextIO = sys.stdout,
    overrides: Mapping[str, str] | None = None,
    **how: Unpack[Reopening],
) -> int:
    """Continue a recorded session at its first unfinished step; return the exit status.

    A session that already ended is not reopened: one line says so, and the exit status is
    its result's (0 only for success), so re-running a resume in automation is harmless."""
    try:
        found = store.info(store.find(ref))
    except store.SessionNotFound as exc:
        print(f"rbconsole resume: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"rbconsole resume: cannot read the journal of {ref}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    if found.state.result:
        return _already_ended(found.id, found.state.result)
    printer = Printer(out)
    how["headless"] = True
    try:
        session = Session.open(ref, ask=terminal_ask(out) if _interactive() else None, baselines=plan_baselines, **how)
    except SessionError as exc:
        print(f"rbconsole resume: {exc}", file=sys.stderr)
        return EXIT_USAGE
    state = session.state
    if state.result:  # it ended between the look above and the open
        await session.close()
        return _already_ended(session.id, state.result)
    if session.read_only:
        print(f"rbconsole resume: session {session.id} is locked by {session.locked_by}; not resuming", file=sys.stderr)
        await session.close()
        return EXIT_FAILED
    unknown = unknown_overrides(session.runbook, overrides or {})
    if unknown:
        print(f"rbconsole resume: {unknown}", file=sys.stderr)
        await session.close()
        return EXIT_USAGE
    session.subscribe(printer)
    printer.opening(session, resumed=True)
    scenario = session.runbook.drill(state.meta.get("scenario") or "")
    teardown = tuple(scenario.teardown) if scenario else ()
    start = StartOptions(plan=state.plan or state.meta.get("plan"), yes=how.get("yes", False))
    again = HeadlessOptions(start, record=record, teardown=teardown, overrides=dict(overrides or {}))
    return await _drive(session, again, out, printer, fresh=False)


def unknown_overrides(runbook: Runbook, overrides: Mapping[str, str]) -> str:
    """Why ``--override`` names no pre-check of ``runbook`` (one line), or ""."""
    known = {check.id for check in runbook.checks}
    bad = [name for name in overrides if name not in known]
    if not bad:
        return ""
    return f"--override {bad[0]}: no pre-check {bad[0]!r} (pre-checks: {', '.join(sorted(known)) or 'none'})"


def _already_ended(session_id: str, result: str) -> int:
    print(
        f"rbconsole resume: session {session_id} already ended ({label(result)}); nothing to resume "
        f"(`rbconsole export {session_id}` renders its record)",
        file=sys.stderr,
    )
    return exit_status(result)


async def _drive(session: Session, options: HeadlessOptions, out: TextIO, printer: Printer, *, fresh: bool) -> int:
    main = asyncio.current_task()
    result = "failed"
    try:
        result = await _flow(session, options, fresh=fresh)
    except asyncio.CancelledError:
        if main is not None:
            main.uncancel()
        session.abort("interrupted (SIGINT/SIGTERM)")
        result = await session.end("aborted")
    except SessionError as exc:
        print(f"rbconsole: {exc}", file=sys.stderr)
        result = await session.end("failed", str(exc))
    finally:
        if options.teardown:
            printer.heading("teardown")
            with contextlib.suppress(asyncio.CancelledError):
                await session.run_actions(options.teardown, "teardown")
        await session.close()
    if session.broken:
        print(f"rbconsole: stopped: {session.broken}", file=sys.stderr)
    printer.closing(session, result)
    if options.record:
        _write_record(session, options.record, out)
    return exit_status(result)


async def _flow(session: Session, options: HeadlessOptions, *, fresh: bool) -> str:
    state = session.state
    if options.setup and fresh:
        session_setup = await session.run_actions(options.setup, "setup")
        if not all(r.ok for r in session_setup):
            return await session.end("failed", "the drill scenario's setup failed")
    if fresh and not state.monitors:
        await session.read_monitors("start")
    if state.plan is None:
        plan = options.start.plan
        if plan is None:
            raise SessionError("no plan was chosen; resume it in the console")
        recommended = session.recommended_plan
        reason = "" if recommended in (None, plan) else "chosen with --plan"
        await session.choose_plan(plan, reason)
    redo = session.checks_not_run()
    if redo:
        await session.run_checks(redo)
    for check_id in session.blocking_failures():
        if check_id in options.overrides:
            await session.override_check(check_id, options.overrides[check_id])
    blocking = session.blocking_failures()
    if blocking and options.stop_on_blocking:
        for check_id in blocking:
            action = state.action("pre", check_id)
            why = f": {action.last.get('detail')}" if action and action.last.get("detail") else ""
            status = action.status if action else "not run"
            print(f"rbconsole: blocking pre-check {check_id} {status}{why}", file=sys.stderr)
        if not session.broken:
            print(f"rbconsole: to go on anyway: --override {blocking[0]}=REASON", file=sys.stderr)
        return await session.end("failed", f"blocking pre-check failed: {', '.join(blocking)}")
    ok = await session.run_plan()
    if session.stop_reason and session.stop_reason != session.broken:
        print(f"rbconsole: {session.stop_reason}", file=sys.stderr)
    if session.unanswered and not fresh:
        # Nobody could answer (no terminal, no --yes): leave the session open for a resume
        # that can, rather than ending it on a guess.
        return "interrupted"
    if ok or not session.not_run_steps():
        await session.verify()
    return await session.end()


def _write_record(session: Session, path: str, out: TextIO) -> None:
    try:
        Path(path).write_text(render_markdown(session.events), encoding="utf-8")
    except OSError as exc:
        print(f"rbconsole: cannot write the record to {path}: {exc.strerror or exc}", file=sys.stderr)
        return
    print(f"record: {path}", file=out)


async def cancel_on_signals(coro: Coroutine[object, object, int]) -> int:
    """Run ``coro`` with SIGINT and SIGTERM cancelling it (so a step is aborted, not orphaned)."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(coro)
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        return EXIT_FAILED
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
