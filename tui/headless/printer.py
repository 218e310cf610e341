"""How a headless session looks on a terminal or in a CI log: a view of its events, plus
asking the operator on the terminal when a step needs them."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import os
import stat
import sys
import threading
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from tui.engine import events as ev
from tui.engine.api import Ask, Question
from tui.engine.branching import escalation_line
from tui.engine.results import label, mode_label
from tui.engine.state import plan_window
from tui.runbook.durations import format_duration

if TYPE_CHECKING:
    from tui.engine.session import Session

PIPE_BYTES = 1024 * 1024
MARK = {"ok": "✓", "dry_run": "·", "skipped": "-", "not_sent": "!"}


class Printer:
    """A session subscriber writing one line per event and output with ``[host] `` prefixes."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._phase = ""
        self.dry_run = False
        self.severity = ""
        # A flood goes to the binary layer, one write per chunk with the prefixes put in by
        # bytes.replace: per-line writes, or str.replace plus the text layer's encoding,
        # cost more than the engine itself. A stream without one (StringIO) gets text.
        self._binary: BinaryIO | None = getattr(out, "buffer", None)
        self._encoding = getattr(out, "encoding", None) or "utf-8"
        self._prefixes: dict[str, tuple[bytes, bytes]] = {}
        self._gone = False  # the reader closed the pipe
        if self._binary is not None:
            _widen_pipe(out)

    def write(self, text: str) -> None:
        if self._gone:
            return
        if self._binary is not None:
            self._send(self._binary, text.encode(self._encoding, "replace"))
            return
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:
            self._reader_gone()

    def _send(self, binary: BinaryIO, data: bytes) -> None:
        try:
            self.out.flush()  # whatever others wrote to the text layer comes first
            binary.write(data)
            binary.flush()  # streamed as it comes, to a terminal and a CI log alike
        except BrokenPipeError:
            self._reader_gone()

    def _reader_gone(self) -> None:
        """Whoever read the output (``| head``, a log pipe that died) is gone; the rollback is
        not: the session goes on, journaled in full, its record written. What would still be
        printed (and the flush at exit) goes to /dev/null instead of raising."""
        self._gone = True
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.out.fileno())
            os.close(devnull)

    def heading(self, text: str) -> None:
        self.write(f"== {text}\n")
        self._phase = text

    def opening(self, session: Session, *, resumed: bool = False) -> None:
        meta = session.state.meta
        self.dry_run = bool(meta.get("dry_run"))
        self.severity = str(session.state.meta.get("severity") or "")
        flags = [mode_label(meta)] + (["--yes"] if session.yes else [])
        verb = "resuming" if resumed else "session"
        self.write(f"{verb} {session.id} [{' '.join(flags)}] {session.runbook.title}\n")
        if resumed and session.state.resumed:
            self._on_session_resumed(session.state.resumed[-1])
        for message in [] if resumed else session.state.warnings:  # journaled before we subscribed
            self.write(f"warning: {message}\n")

    def closing(self, session: Session, result: str) -> None:
        state = session.state
        plan = session.plan
        took = (state.ended or 0) - (state.started or 0) if state.ended else None
        if result == "interrupted":
            self.write(f"== not finished: session {session.id} can be resumed\n")
        elif result == "dry_run":
            self.write(f"== result: DRY RUN — {state.end_reason} (session {format_duration(took)})\n")
        else:
            ran = None if self.dry_run else plan_window(state)
            target = f" (target {plan.target_minutes:g} min)" if plan and plan.target_minutes else ""
            plan_time = f"plan {format_duration(ran)}{target}; " if ran is not None else ""
            why = f" — {state.end_reason}" if state.end_reason and result != "success" else ""
            self.write(f"== result: {label(result).upper()}{why} ({plan_time}session {format_duration(took)})\n")
        unsent = [a.id for a in state.actions.values() if a.status == "not_sent"]
        if unsent:
            self.write(f"== printed, NOT sent (send them yourself): {', '.join(unsent)}\n")
        self.write(f"session: {session.id}\n")

    def __call__(self, event: ev.Event) -> None:
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event.data)

    def _on_output(self, data: dict[str, Any]) -> None:
        if self._gone:
            return
        text: str = data["text"]
        body = text[:-1] if text.endswith("\n") else text
        if self._binary is None:
            prefix = f"[{data['host']}] "
            self.write(prefix + body.replace("\n", "\n" + prefix) + "\n")
            return
        host = str(data["host"])
        prefixes = self._prefixes.get(host)
        if prefixes is None:
            prefix = f"[{host}] ".encode(self._encoding, "replace")
            prefixes = self._prefixes[host] = (prefix, b"\n" + prefix)
        self._send(
            self._binary, prefixes[0] + body.encode(self._encoding, "replace").replace(b"\n", prefixes[1]) + b"\n"
        )

    def _on_plan_chosen(self, data: dict[str, Any]) -> None:
        why = f" (recommended {data['recommended']}; {data['reason']})" if data.get("reason") else ""
        self.write(f"plan {data['plan']}: {data['title']}{why}\n")

    def _phase_heading(self, phase: str) -> None:
        names = {"setup": "drill setup", "pre": "pre-checks", "step": "steps", "verify": "verification"}
        name = names.get(phase, phase)
        if self._phase != name:
            self.heading(name)

    def _on_check_started(self, data: dict[str, Any]) -> None:
        # Checks run in parallel: their commands are only worth a line when nothing runs.
        self._phase_heading(data["phase"])
        if self.dry_run:
            self._describe(data)

    def _on_step_started(self, data: dict[str, Any]) -> None:
        self._phase_heading(data["phase"])
        number = f"{data['index'] + 1}. " if data.get("index") is not None and data["phase"] == "step" else ""
        attempt = f" (attempt {data['attempt']})" if data.get("attempt", 1) > 1 else ""
        self.write(f"▶ {number}{data['id']}: {data.get('title') or data['kind']}{attempt}\n")
        condition = data.get("condition") or {}
        if condition.get("when"):
            seen = f" ({condition['values']})" if condition.get("values") else ""
            self.write(f"  when {condition['when']}: true{seen}\n")
        self._describe(data)

    def _describe(self, data: dict[str, Any]) -> None:
        for line in data.get("describe") or []:
            self.write(f"  {line}\n")

    def _finished(self, data: dict[str, Any]) -> None:
        status = data["status"]
        mark = MARK.get(status, "✗")
        detail = f": {data['detail']}" if data.get("detail") and status not in ("ok", "dry_run") else ""
        warn = " [warning]" if data.get("severity") == "warning" and status != "ok" else ""
        captured = f"  captured {', '.join(data['captured'])}" if data.get("captured") else ""
        title = f" {data['title']}" if data["phase"] in ("pre", "verify") and data.get("title") else ""
        took = format_duration(data.get("duration"))
        words = ev.STATUS_WORDS.get(status, status)
        self.write(f"{mark} {data['id']}{title} {words}{detail}{warn} ({took}){captured}\n")
        drift = data.get("drift")
        if isinstance(drift, dict) and drift.get("flagged"):
            self.write(f"  drift: {drift.get('text')}\n")
        hosts = data.get("hosts") or {}
        if len(hosts) > 1:
            for name, host in hosts.items():
                if host.get("status") != "ok":
                    self.write(f"  [{name}] {host.get('status')}: {host.get('detail') or ''}".rstrip(": ") + "\n")

    _on_check_finished = _finished
    _on_step_finished = _finished

    def _on_step_skipped(self, data: dict[str, Any]) -> None:
        self._phase_heading(data.get("phase") or "step")
        self.write(f"- {data['id']} skipped{': ' + data['reason'] if data.get('reason') else ''}\n")

    def _on_check_overridden(self, data: dict[str, Any]) -> None:
        self.write(f"! {data['id']} overridden: {data['reason']}\n")

    def _on_confirmation(self, data: dict[str, Any]) -> None:
        if data["by"] == "--yes" and data["question"] != "unknown":
            self.write(f"  {data['question']} {data['id']}: answered {data['answer']!r} by --yes\n")
        elif data["by"] == "no-tty" and data["question"] == "unknown":
            self.write(f"? {data['id']}: outcome unknown (interrupted); no terminal to ask (use --yes to re-run)\n")
        elif data["by"] == "--with":
            self.write(f"  optional {data['id']}: run (--with)\n")
        elif data["by"] == "no-tty":
            self.write(f"  {data['id']} needs confirmation; no terminal to ask (use --yes)\n")

    def _on_step_resolved(self, data: dict[str, Any]) -> None:
        self.write(f"? {data['id']}: outcome was unknown; answered {data['answer']!r} ({data['by']})\n")

    def _on_monitors_read(self, data: dict[str, Any]) -> None:
        self.heading(f"monitors ({data.get('at')})")
        for reading in data.get("readings") or []:
            values = ", ".join(f"{v['value']} {v['series']}" for v in (reading.get("values") or [])[:5])
            shown = values or reading.get("detail") or ""
            level = f" [{reading['severity']}]" if reading.get("severity") else ""
            state = str(reading.get("state", "")).upper().replace("_", " ")
            self.write(f"{state:8} {reading.get('id')}{level}: {shown} (fires when {reading.get('condition')})\n")
        suggested = data.get("suggested")
        if data.get("at") == "start":
            given = self.severity or "none given"
            self.write(f"severity suggested by the monitors: {suggested or 'none fire'} (severity: {given})\n")

    def _on_severity_set(self, data: dict[str, Any]) -> None:
        self.severity = str(data.get("level") or "")
        self.write(f"severity set to {data.get('level')} by {data.get('by')}\n")

    def _on_escalation_due(self, data: dict[str, Any]) -> None:
        due = "drill: escalation would be due" if data.get("drill") else "escalation due"
        self.write(f"!! {due} ({data['detail']}): call {escalation_line(data)}\n")

    def _on_warning(self, data: dict[str, Any]) -> None:
        self.write(f"warning: {data['message']}\n")

    def _on_session_resumed(self, data: dict[str, Any]) -> None:
        if data.get("repaired"):
            self.write("journal: a torn last line was repaired\n")
        if data.get("warning"):
            self.write(f"warning: {data['warning']}\n")


def _widen_pipe(out: TextIO) -> None:
    """Let a pipe on ``out`` (``| tee log``, a CI runner) hold a megabyte: with the default 64 KiB
    a flood costs a context switch per 64 KiB and the writer spends most of its time waiting."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    try:
        fd = out.fileno()
        if setsize is None or not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
        fcntl.fcntl(fd, setsize, PIPE_BYTES)
    except (OSError, ValueError, io.UnsupportedOperation):
        return  # not a real file, or the system's pipe-max-size is lower: the default it is


def terminal_ask(out: TextIO) -> Ask:
    """Ask on the controlling terminal. A destructive step needs its target typed back."""

    async def ask(question: Question) -> str:
        out.write(f"\n{question.text}\n")
        for line in question.describe:
            out.write(f"  {line}\n")
        if question.kind == "destructive":
            target = question.targets[0] if question.targets else question.step_id
            prompt = f"destructive step {question.step_id}: type {target!r} to run it (anything else stops): "
            typed = await _read(out, prompt)
            return "yes" if typed in question.targets or typed == question.step_id else "no"
        if question.kind == "manual":
            typed = await _read(out, "checked, and it holds? [y/N] " if question.about_a_check else "done? [y/N] ")
            return "yes" if typed.lower() in ("y", "yes") else "no"
        typed = await _read(out, f"{' / '.join(question.options)}? ")
        return typed if typed in question.options else question.options[0]

    return ask


async def _read(out: TextIO, prompt: str) -> str:
    out.write(prompt)
    out.flush()
    # A daemon thread, not the default executor: Ctrl-C at the prompt must not leave the
    # process waiting at exit for a readline nobody will answer.
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def read() -> None:
        line = sys.stdin.readline()
        loop.call_soon_threadsafe(lambda: answer.done() or answer.set_result(line))

    threading.Thread(target=read, daemon=True, name="confirm-input").start()
    return (await answer).strip()
