"""Creating a session folder, and reopening one from its journal (resume or read-only view).

:func:`create` and :func:`reopen` do the file and value work of :meth:`Session.start` and
:meth:`Session.open` and hand back an :class:`Opening`: everything a session is made of, and
the events its opening journals (``session_started`` or ``session_resumed``, and warnings).
The session is built from it; nothing here reaches into a session.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import secrets as random
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Unpack

from tui import paths
from tui.engine import events as ev
from tui.engine import fence
from tui.engine.api import Reopening, SessionError, StartOptions
from tui.engine.journal import JOURNAL_NAME, Journal, fsync_dir, read_events
from tui.engine.lock import SessionLock
from tui.engine.record_source import record_source
from tui.engine.redact import MIN_LENGTH
from tui.engine.store import SessionNotFound, find
from tui.engine.values import Values, ValuesError, resolve
from tui.runbook.loader import load
from tui.runbook.model import Runbook, Step
from tui.runbook.placeholders import Value
from tui.runbook.profiles import with_profile
from tui.runbook.uses import secrets_needed


@dataclass
class Opening:
    """What a session is made of when it starts or reopens, and what its opening journals."""

    session_id: str
    directory: Path
    runbook: Runbook
    runbook_path: str
    values: Values
    journal: Journal | None  # None: read-only (locked elsewhere, or ended)
    lock: SessionLock
    history: list[ev.Event]  # what the journal held before (empty for a new session)
    yes: bool
    dry_run: bool
    live: bool  # this process started it (a reopened one's running steps are "unknown")
    headless: bool
    with_steps: tuple[str, ...]
    # The runbook without the profile applied and the operator's --var values: what a fenced
    # session's targets are compared with.
    fence_source: tuple[Runbook, Mapping[str, str]]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # to journal, in order


def plan_scope(runbook: Runbook, plan_id: str) -> dict[str, Value]:
    """The placeholders a chosen plan sets: ``plan``, ``plan_title`` and its own ``target_version``."""
    plan = runbook.plans[plan_id]
    scope = {"plan": Value(plan_id, trusted=True), "plan_title": Value(plan.title, trusted=True)}
    if plan.target_version is not None:
        scope["target_version"] = Value(plan.target_version, trusted=True)
    return scope


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def _builtins(runbook: Runbook, session_id: str, operator: str, options: StartOptions, started: float) -> dict:
    stamp = datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds")
    trusted = {
        "service": runbook.service,
        "current_version": runbook.current_version,
        "target_version": runbook.target_version,
        "runbook": runbook.id,
        "session": session_id,
        "profile": options.profile or "",
        "mode": options.mode,
        "started": stamp,
        "now": stamp,
        "plan": "",
        "plan_title": "",
    }
    scope = {name: Value(text, trusted=True) for name, text in trusted.items()}
    scope["operator"] = Value(operator)
    scope["severity"] = Value(options.severity or "")
    return scope


def create(runbook: Runbook, runbook_path: str, options: StartOptions) -> Opening:
    """Create the session folder, take its lock and resolve params/vars/secrets; the opening
    journals ``session_started``. Raises :class:`SessionError` for bad input."""
    if options.plan is not None and options.plan not in runbook.plans:
        raise SessionError(f"plan {options.plan!r} is not defined (known: {', '.join(runbook.plans)})")
    levels = [s.level for s in runbook.severity]
    if options.severity is not None and options.severity not in levels:
        raise SessionError(f"severity {options.severity!r} is not defined (known: {', '.join(levels) or 'none'})")
    with_steps = _with_steps(runbook, options)
    started = time.time()
    session_id = f"{datetime.fromtimestamp(started, UTC):%Y%m%d-%H%M%S}-{random.token_hex(3)}"
    operator = options.operator or login_name()
    given = dict(options.values)
    if "reason" in runbook.params and "reason" not in given and options.reason:
        given["reason"] = options.reason
    raw, runbook = runbook, with_profile(runbook, options.profile)
    try:
        values = resolve(
            runbook,
            given,
            builtins=_builtins(runbook, session_id, operator, options, started),
            profile=options.profile,
            ssh_config=options.ssh_config,
            known_hosts=options.known_hosts,
            dry_run=options.dry_run,
            needed=secrets_needed(runbook, plan=options.plan, scenario=options.scenario, profile=options.profile),
        )
    except ValuesError as exc:
        raise SessionError(str(exc)) from None
    fenced = fence.applies(runbook, options.profile, options.mode)
    found: list[fence.Target] = []
    if fenced:
        found = fence.targets(
            runbook, raw, runbook_path, values, given,
            profile=options.profile, plan=options.plan, scenario=options.scenario,
        )  # fmt: skip
        if fence.refusal(found, options.profile or "") and not options.dry_run:
            raise fence.Refused(found, options.profile or "")
    directory = paths.sessions_dir() / session_id
    try:
        (directory / "output").mkdir(parents=True)
        fsync_dir(directory.parent)
        lock = SessionLock(directory)
        lock.acquire()
        journal = Journal.create(directory)
    except OSError as exc:
        raise SessionError(f"cannot create the session in {directory}: {exc.strerror or exc}") from None
    resolved_path = str(Path(runbook_path).resolve())
    started_data = {
        "session": session_id,
        "runbook_id": runbook.id,
        "runbook_path": resolved_path,
        "runbook_title": runbook.title,
        "runbook_sha256": _sha256(runbook_path),
        **record_source(runbook, values.scope),
        "checks": [{"id": c.id, "title": c.title, "kind": c.kind, "severity": c.severity} for c in runbook.checks],
        "service": runbook.service,
        "current_version": runbook.current_version,
        "target_version": runbook.target_version,
        "operator": operator,
        "reason": options.reason or values.params.get("reason", ""),
        "severity": options.severity,
        "params": values.params,
        "given": {k: values.params.get(k, v) for k, v in given.items()},
        "profile": options.profile,
        "mode": options.mode,
        "dry_run": options.dry_run,
        "yes": options.yes,
        "scenario": options.scenario,
        "plan": options.plan,
        "user": login_name(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        **({"targets": fence.summary(found)} if fenced else {}),
    }
    events: list[tuple[str, dict[str, Any]]] = [(ev.SESSION_STARTED, started_data)]
    events += [(ev.WARNING, {"message": f"dry run: {message}", "problem": True}) for message in values.stand_ins]
    for name, value in values.scope.items():
        if value.secret and 0 < len(value.text) < MIN_LENGTH:
            message = f"secret {name} is shorter than {MIN_LENGTH} characters: too short to mask, it may show in output"
            events.append((ev.WARNING, {"message": message}))
    return Opening(
        session_id=session_id,
        directory=directory,
        runbook=runbook,
        runbook_path=resolved_path,
        values=values,
        journal=journal,
        lock=lock,
        history=[],
        yes=options.yes,
        dry_run=options.dry_run,
        live=True,
        headless=options.headless,
        with_steps=with_steps,
        fence_source=(raw, given),
        events=events,
    )


def reopen(ref: str, **how: Unpack[Reopening]) -> Opening:
    """Reopen a recorded session by id or unique id prefix. If another process holds its
    lock (or ``read_only``), the session is read-only and ``locked_by`` says who has it; an
    ended session is always read-only. ``values`` (``--var``) may supply what the journal never
    kept (a secret param) but not change what the session ran with; nor may ``profile``; the
    opening journals ``session_resumed`` when it may write."""
    yes, profile = how.get("yes", False), how.get("profile")
    try:
        directory = find(ref)
    except SessionNotFound as exc:
        raise SessionError(str(exc)) from None
    lock = SessionLock(directory)
    writable = not how.get("read_only", False) and lock.acquire()
    try:
        journal = Journal.open(directory) if writable else None
        history = journal.events if journal else _read_only_events(directory)
    except OSError as exc:
        lock.release()
        raise SessionError(f"cannot read the journal of {directory.name}: {exc.strerror or exc}") from None
    if not history or history[0].type != ev.SESSION_STARTED:
        lock.release()
        raise SessionError(f"session {directory.name} has no start event; it cannot be reopened")
    if journal is not None and any(e.type == ev.SESSION_ENDED for e in history):
        # An ended session is a record now: it can be viewed and exported, not continued.
        journal.close()
        lock.release()
        journal, writable = None, False
    meta = history[0].data
    loaded = load(meta.get("runbook_path", ""))
    if not loaded.ok or loaded.runbook is None:
        lock.release()
        first = loaded.problems[0] if loaded.problems else "it cannot be loaded"
        raise SessionError(f"the session's runbook is not usable now: {first}")
    raw = loaded.runbook
    runbook = with_profile(raw, meta.get("profile"))
    options = StartOptions(
        operator=meta.get("operator"),
        severity=meta.get("severity"),
        profile=meta.get("profile"),
        mode=meta.get("mode", "live"),
        dry_run=bool(meta.get("dry_run")),
        yes=yes,
    )
    given = dict(meta.get("given") or {})
    if profile is not None and profile != meta.get("profile"):
        lock.release()
        was = f"profile {meta['profile']!r}" if meta.get("profile") else "no profile"
        raise SessionError(f"session {directory.name} ran with {was}; a resume cannot change it to {profile!r}")
    for name, text in (how.get("values") or {}).items():
        if given.get(name) not in (text, "••••••"):
            lock.release()
            was = f"{name}={given[name]!r}" if name in given else f"{name} as the runbook sets it"
            raise SessionError(f"session {directory.name} ran with {was}; a resume cannot change it")
        given[name] = text
    masked = [k for k, v in given.items() if v == "••••••"]
    if masked and writable:
        lock.release()
        raise SessionError(
            f"secret param {masked[0]!r} is never stored: resume with --var {masked[0]}=VALUE to give it again"
        )
    try:
        values = resolve(
            runbook,
            given,
            builtins=_builtins(runbook, directory.name, meta.get("operator", ""), options, history[0].ts),
            profile=options.profile,
            ssh_config=how.get("ssh_config"),
            known_hosts=how.get("known_hosts"),
            secrets=None if writable else dict.fromkeys(runbook.secrets, ""),
            dry_run=options.dry_run,
            needed=secrets_needed(
                runbook,
                plan=_plan_of(history) or meta.get("plan"),
                scenario=meta.get("scenario"),
                profile=options.profile,
            ),
        )
    except ValuesError as exc:
        lock.release()
        raise SessionError(str(exc)) from None
    plan = _plan_of(history) or meta.get("plan")
    with_steps = _with_steps(runbook, replace(options, plan=plan, with_steps=how.get("with_steps", ())), lock)
    events: list[tuple[str, dict[str, Any]]] = []
    if writable:
        data = {"operator": how.get("operator") or login_name(), "user": login_name(), "host": socket.gethostname()}
        data |= {"pid": os.getpid(), "yes": yes, "repaired": journal.repaired if journal else False}
        if _sha256(meta.get("runbook_path", "")) != meta.get("runbook_sha256"):
            data["warning"] = "the runbook file changed since the session started"
        events.append((ev.SESSION_RESUMED, data))
    return Opening(
        session_id=directory.name,
        directory=directory,
        runbook=runbook,
        runbook_path=meta.get("runbook_path", ""),
        values=values,
        journal=journal,
        lock=lock,
        history=history,
        yes=yes,
        dry_run=options.dry_run,
        live=False,
        headless=how.get("headless", False),
        with_steps=with_steps,
        fence_source=(raw, given),
        events=events,
    )


def _plan_of(history: list[ev.Event]) -> str | None:
    chosen = [e.data.get("plan") for e in history if e.type == ev.PLAN_CHOSEN]
    return str(chosen[-1]) if chosen and chosen[-1] else None


def _with_steps(runbook: Runbook, options: StartOptions, lock: SessionLock | None = None) -> tuple[str, ...]:
    """``--with`` ids, each an optional step of some plan (of the chosen one when known)."""
    plans = [runbook.plans[options.plan]] if options.plan in runbook.plans else list(runbook.plans.values())
    optional = {step.id for plan in plans for step in plan.steps if step.optional}
    for step_id in options.with_steps:
        if step_id not in optional:
            if lock is not None:
                lock.release()
            where = f"plan {options.plan!r}" if options.plan in runbook.plans else "any plan"
            known = ", ".join(sorted(optional)) or "none"
            raise SessionError(f"--with {step_id}: no optional step {step_id!r} in {where} (optional: {known})")
    return tuple(options.with_steps)


def outline(action: Step) -> dict[str, object]:
    return {"id": action.id, "title": action.title, "kind": action.kind, "confirm": action.confirm}


def _sha256(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def _read_only_events(directory: Path) -> list[ev.Event]:
    return read_events(directory / JOURNAL_NAME)
