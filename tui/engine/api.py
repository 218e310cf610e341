"""The types the session engine's callers use: questions for the operator, start options,
action results, and errors. (Re-exported by :mod:`tui.engine.session`.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from tui.engine.events import Event

Phase = Literal["setup", "pre", "step", "verify", "teardown"]
Subscriber = Callable[[Event], None]


class SessionError(Exception):
    """Bad input at the session's edge (unknown plan, missing param, unreadable secret, a
    session locked by another process); the message is one line for the operator."""


CHECK_PHASES = ("pre", "verify")  # the phases whose actions are checks (read-only, no plan step)


@dataclass(frozen=True)
class Question:
    """Something only the operator can answer. ``options[0]`` is what ``--yes`` answers.

    kind "destructive": options ("yes", "no"); the console asks the operator to type one of
    ``targets`` (host / group names, or the step id for local steps).
    kind "manual": options ("yes", "no") — did you do it?
    kind "on_failure": options ("abort", "retry", "skip", "continue").
    kind "unknown": options ("rerun", "done", "failed", "skip") — the process died mid-step.
    kind "notify": options ("yes", "no") — a notification with no webhook: ``text`` is the
    rendered message; did you send it?
    kind "optional": options ("run", "skip") — an optional step; ``--yes`` never answers it.
    """

    kind: Literal["destructive", "manual", "on_failure", "unknown", "notify", "optional"]
    step_id: str
    phase: str
    title: str
    text: str
    options: tuple[str, ...]
    describe: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    @property
    def about_a_check(self) -> bool:
        """A manual pre-check or verification: "does it hold?", not "did you do it?"."""
        return self.kind == "manual" and self.phase in CHECK_PHASES


Ask = Callable[[Question], Awaitable[str]]


class Reopening(TypedDict, total=False):
    """How :func:`~tui.engine.opening.reopen` (``Session.open``, ``resume_headless``) reopens a session."""

    yes: bool
    read_only: bool
    ssh_config: str | None
    known_hosts: str | None
    operator: str | None
    values: Mapping[str, str] | None
    profile: str | None
    headless: bool
    with_steps: tuple[str, ...]


@dataclass(frozen=True)
class StartOptions:
    operator: str | None = None  # default: the login name
    reason: str = ""
    severity: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)  # --var k=v: params and var overrides
    profile: str | None = None
    mode: Literal["live", "drill"] = "live"
    dry_run: bool = False
    yes: bool = False
    scenario: str | None = None
    plan: str | None = None  # choose this plan at start (headless)
    ssh_config: str | None = None
    known_hosts: str | None = None
    headless: bool = False  # nobody decides optional steps: only those in with_steps run
    with_steps: tuple[str, ...] = ()  # --with: optional steps to run headless

    def reopening(self) -> Reopening:
        """What reopening a session takes from these options (``Session.open``, ``resume_headless``):
        the rest was journaled when it started."""
        return {
            "ssh_config": self.ssh_config,
            "known_hosts": self.known_hosts,
            "operator": self.operator,
            "values": dict(self.values),
            "profile": self.profile,
        }


@dataclass(frozen=True)
class ActionResult:
    """The engine's view of one finished check or step (the same as its journaled event)."""

    id: str
    phase: str
    status: str  # ok | failed | timeout | aborted | unknown | error | skipped | declined | dry_run | no_data | not_sent
    detail: str = ""
    exit_status: int | None = None
    duration: float = 0.0
    attempt: int = 1

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "skipped", "dry_run")

    @property
    def finished(self) -> bool:
        """Nothing more to do here: ok, or a notification printed for the operator to send
        (not ok, yet running it again would send nothing either)."""
        return self.ok or self.status == "not_sent"
