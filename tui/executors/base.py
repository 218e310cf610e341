"""What every executor shares: the context it runs in, how it streams output, what it returns.

An executor runs one check or step (any kind) and never raises for an operational failure:
an unreachable host, a refused key, a timeout or a bad response all become an ``Outcome``
with a status and a one-line ``detail``. Cancelling the awaiting task aborts the work (the
executor signals the remote command / cancels the query, then re-raises CancelledError).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Literal, TypeVar, cast, get_args, get_origin

from tui.runbook.model import Action, Runbook, SshSettings, Step
from tui.runbook.placeholders import RenderError, Value

# "no_data": a metric query found no series (never a pass); "not_sent": a notification with no
# webhook was printed for the operator to send, and nobody said it was sent.
# "declined": a manual check nobody confirmed (the session journals it; no executor returns it).
Status = Literal["ok", "failed", "timeout", "aborted", "unknown", "skipped", "error", "no_data", "not_sent", "declined"]

# (host or "local", stream "stdout"|"stderr"|"info", decoded text: one or many whole lines)
OutputSink = Callable[[str, str, str], None]


@dataclass(frozen=True)
class ExecContext:
    runbook: Runbook
    scope: Mapping[str, Value]
    # host name -> Host and the ssh settings after the profile's overrides, placeholders filled in
    # (tui.runbook.hosts.render_hosts / render_ssh): executors use them as they are.
    hosts: Mapping[str, object]
    ssh: SshSettings
    check_mode: bool = False  # a pre-check or verification: read-only where the kind allows
    dry_run: bool = False
    default_timeout: float = 300.0
    redact: Callable[[str], str] = lambda text: text
    # Who said a manual step or check was done, or a notify with no webhook sent ("" = nobody):
    # the operator's name, or "--yes (nobody was asked)" when the run confirmed everything unasked.
    confirmed_by: str = ""
    # A profile's renamed environment variables as local commands see them (None: unset).
    env: Mapping[str, str | None] = field(default_factory=dict)


@dataclass
class HostOutcome:
    host: str
    status: Status
    exit_status: int | None = None
    detail: str = ""
    started: float = 0.0
    duration: float = 0.0


@dataclass
class Outcome:
    status: Status
    detail: str = ""
    exit_status: int | None = None
    duration: float = 0.0
    captured: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, HostOutcome] = field(default_factory=dict)
    summary: str = ""  # e.g. "HTTP 200 in 12 ms" or a small result table
    readings: list[dict[str, object]] = field(default_factory=list)  # metric values read, kept in the record
    # Where it acted, as reached: an HTTP step's URL, a SQL step's host:port/db as libpq
    # resolved it (PG* variables, a service file); "" where the host names it (ssh) or no place.
    where: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "skipped")


class Executor(ABC):
    """Runs the actions of one kind (tui/runbook/kinds.py names the executor of each)."""

    @abstractmethod
    async def run(self, action: Step, ctx: ExecContext, sink: OutputSink) -> Outcome:
        """Run ``action``; stream output through ``sink``; return the outcome."""

    @abstractmethod
    def describe(self, action: Step, ctx: ExecContext) -> list[str]:
        """What would run, fully resolved (for --dry-run and the confirmation modal)."""

    async def close(self) -> None:  # noqa: B027 - most executors hold nothing to release
        """Release pooled resources (connections); called when the session ends."""


def unresolved(action: Step, ctx: ExecContext, exc: Exception) -> Outcome:
    """The outcome of an action whose values cannot be filled in (it did not start)."""
    return Outcome("error", detail=f"{action.id}: {ctx.redact(str(exc))}")


ActionT = TypeVar("ActionT", bound=Action)
ResolvedT = TypeVar("ResolvedT")


class ResolvingExecutor(Executor, Generic[ActionT, ResolvedT]):
    """An executor whose action is resolved before anything is sent: every placeholder filled in
    for where it lands (a URL, a query, a ref). What a dry run and an unresolvable value come to
    is said here once for every such kind: a dry run resolves and sends nothing; a value that
    cannot be filled in is an "error" outcome before anything starts, and one line in the
    description."""

    action_type: ClassVar[type[Action]]  # the first type parameter: ResolvingExecutor[GitAction, ...]
    dry_run_detail: ClassVar[str] = "dry run: nothing sent"
    # The description's line for an action that cannot be resolved, redacted as a whole.
    cannot_resolve: ClassVar[str] = "{action.id}: cannot resolve: {why}"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is ResolvingExecutor:
                cls.action_type = get_args(base)[0]

    @abstractmethod
    def resolve(self, action: ActionT, ctx: ExecContext) -> ResolvedT:
        """What ``action`` sends, its values filled in. Raises RenderError."""

    @abstractmethod
    def describe_resolved(self, action: ActionT, resolved: ResolvedT, ctx: ExecContext) -> list[str]:
        """What would run: ``resolved`` as the operator reads it (secrets redacted)."""

    @abstractmethod
    async def run_resolved(self, action: ActionT, resolved: ResolvedT, ctx: ExecContext, sink: OutputSink) -> Outcome:
        """Send ``resolved``; stream output through ``sink``; return the outcome."""

    def describe(self, action: Step, ctx: ExecContext) -> list[str]:
        checked = self._checked(action)
        try:
            resolved = self.resolve(checked, ctx)
        except RenderError as exc:
            return [ctx.redact(self.cannot_resolve.format(action=checked, why=exc))]
        return self.describe_resolved(checked, resolved, ctx)

    async def run(self, action: Step, ctx: ExecContext, sink: OutputSink) -> Outcome:
        checked = self._checked(action)
        if ctx.dry_run:
            return Outcome("skipped", detail=self.dry_run_detail)
        try:
            resolved = self.resolve(checked, ctx)
        except RenderError as exc:
            return unresolved(action, ctx, exc)
        return await self.run_resolved(checked, resolved, ctx, sink)

    def _checked(self, action: Step) -> ActionT:
        assert isinstance(action, self.action_type), f"{type(self).__name__} got a {type(action).__name__}"
        return cast(ActionT, action)
