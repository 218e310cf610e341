"""Creating a session folder, and reopening one from its journal (resume or read-only view).

The two halves of :meth:`Session.start` and :meth:`Session.open`, kept here so the session
module is about the flow of an incident rather than about files.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import secrets as random
import socket
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tui import paths
from tui.engine import events as ev
from tui.engine import fence
from tui.engine.api import Ask, SessionError, StartOptions
from tui.engine.journal import JOURNAL_NAME, Journal, fsync_dir, read_events
from tui.engine.lock import SessionLock
from tui.engine.redact import MIN_LENGTH
from tui.engine.store import SessionNotFound, find
from tui.engine.values import ValuesError, resolve
from tui.runbook.loader import load
from tui.runbook.model import Runbook, Step
from tui.runbook.placeholders import PLACEHOLDER, Value
from tui.runbook.profiles import with_profile
from tui.runbook.uses import secrets_needed

if TYPE_CHECKING:
    from tui.engine.session import Session


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


def create(cls: type[Session], runbook: Runbook, runbook_path: str, options: StartOptions, ask: Ask | None) -> Session:
    """Create the session folder, take its lock, resolve params/vars/secrets and journal
    ``session_started``. Raises :class:`SessionError` for bad input."""
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
    session = cls(
        session_id=session_id,
        directory=directory,
        runbook=runbook,
        runbook_path=str(Path(runbook_path).resolve()),
        values=values,
        journal=journal,
        lock=lock,
        history=[],
        ask=ask,
        yes=options.yes,
        dry_run=options.dry_run,
        live=True,
        headless=options.headless,
        with_steps=with_steps,
    )
    session.fence_source = (raw, given)
    session._record_now(
        ev.SESSION_STARTED,
        {
            "session": session_id,
            "runbook_id": runbook.id,
            "runbook_path": session.runbook_path,
            "runbook_title": runbook.title,
            "runbook_sha256": _sha256(runbook_path),
            "record": _fill_known(runbook.record.model_dump(exclude={"fields"}), values.scope)
            | {"fields": _field_parts(runbook.record.fields, values.scope)},
            "checklists": {
                name: [
                    item if isinstance(item, str) else item.model_dump() for item in getattr(runbook.checklists, name)
                ]
                for name in ("pre", "during", "post", "followup")
            },
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
        },
    )
    for message in values.stand_ins:
        session._record_now(ev.WARNING, {"message": f"dry run: {message}", "problem": True})
    for name, value in values.scope.items():
        if value.secret and 0 < len(value.text) < MIN_LENGTH:
            message = f"secret {name} is shorter than {MIN_LENGTH} characters: too short to mask, it may show in output"
            session._record_now(ev.WARNING, {"message": message})
    return session


def reopen(
    cls: type[Session],
    ref: str,
    *,
    ask: Ask | None = None,
    yes: bool = False,
    read_only: bool = False,
    ssh_config: str | None = None,
    known_hosts: str | None = None,
    operator: str | None = None,
    values: Mapping[str, str] | None = None,
    profile: str | None = None,
    headless: bool = False,
    with_steps: tuple[str, ...] = (),
) -> Session:
    """Reopen a recorded session by id or unique id prefix. If another process holds its
    lock (or ``read_only``), the session is read-only and ``locked_by`` says who has it; an
    ended session is always read-only. ``values`` (``--var``) may supply what the journal never
    kept (a secret param) but not change what the session ran with; nor may ``profile``."""
    try:
        directory = find(ref)
    except SessionNotFound as exc:
        raise SessionError(str(exc)) from None
    lock = SessionLock(directory)
    writable = not read_only and lock.acquire()
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
    for name, text in (values or {}).items():
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
            ssh_config=ssh_config,
            known_hosts=known_hosts,
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
    session = cls(
        session_id=directory.name,
        directory=directory,
        runbook=runbook,
        runbook_path=meta.get("runbook_path", ""),
        values=values,
        journal=journal,
        lock=lock,
        history=history,
        ask=ask,
        yes=yes,
        dry_run=options.dry_run,
        live=False,
        headless=headless,
        with_steps=_with_steps(
            runbook, replace(options, plan=_plan_of(history) or meta.get("plan"), with_steps=with_steps), lock
        ),
    )
    session.fence_source = (raw, given)
    for name, text in session.state.captured.items():
        session._scope[name] = Value(text)
    if session.state.plan:
        session._set_plan_scope(session.state.plan)
    if writable:
        data = {"operator": operator or login_name(), "user": login_name(), "host": socket.gethostname()}
        data |= {"pid": os.getpid(), "yes": yes, "repaired": journal.repaired if journal else False}
        if _sha256(session.runbook_path) != meta.get("runbook_sha256"):
            data["warning"] = "the runbook file changed since the session started"
        session._record_now(ev.SESSION_RESUMED, data)
    return session


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


def _field_parts(fields: dict[str, str], scope: dict[str, Value]) -> dict[str, list[list[str]]]:
    """Each ``[record.fields]`` value split into the author's text, the values known now, and
    the names only the run will fill (``["text", ...]``, ``["value", ...]``, ``["later", name]``):
    the record fills the later ones from the journal, and a value is never read again as a
    template (an operator's "{{ x }}" stays those characters)."""
    out: dict[str, list[list[str]]] = {}
    for label, text in fields.items():
        parts: list[list[str]] = []
        end = 0
        for match in PLACEHOLDER.finditer(text):
            parts.append(["text", text[end : match.start()]])
            name = match.group(1)
            parts.append(["value", scope[name].text] if name in scope else ["later", name])
            end = match.end()
        parts.append(["text", text[end:]])
        out[label] = [p for p in parts if p[0] != "text" or p[1]]
    return out


def _fill_known(data: object, scope: dict[str, Value]) -> object:
    """The record's own texts with the values known at start filled in; a value captured later
    keeps its placeholder (the journal states what was known when, and secrets are masked
    on the way in)."""
    if isinstance(data, str):
        return PLACEHOLDER.sub(lambda m: scope[m.group(1)].text if m.group(1) in scope else m.group(0), data)
    if isinstance(data, list):
        return [_fill_known(item, scope) for item in data]
    if isinstance(data, dict):
        return {key: _fill_known(item, scope) for key, item in data.items()}
    return data
