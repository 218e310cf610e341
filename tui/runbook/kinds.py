"""The step kinds: one entry per ``kind = "..."`` a check, step or verification may have.

Everything else that depends on a kind reads it from here: the loader's error messages, the
executor that runs it, the target the screens show, whether it fans out over ssh hosts. A new
kind is a model class in ``tui.runbook.model`` (added to its ``Step`` union), an executor, and
one entry below; importing this module fails if the union and this registry disagree.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass

from tui.runbook import model as m
from tui.runbook.hosts import named


@dataclass(frozen=True)
class StepKind:
    name: str
    model: type[m.Action]
    executor: str  # "module:Class", imported only when a session uses the kind
    # Where an action of this kind acts, as the runbook writes it (before any value is substituted).
    target: Callable[[typing.Any], str]
    # Fans out over ssh hosts: the plan screen opens one output pane per host.
    on_hosts: bool = False
    # Its target is a URL, a repo or a database that the engine resolves from the session's
    # values: the screens show that resolved first line of what it would run.
    resolves_target: bool = False
    # Its values land in words for a person (a message, an instruction), not in a command or a
    # request: an empty param there is harmless.
    prose: bool = False


def _ssh_target(action: m.SshAction) -> str:
    return ",".join(named(action))


def _wait_target(action: m.WaitAction) -> str:
    return f"until {action.until}" if action.until else f"{action.seconds:g}s"


_ENTRIES = (
    StepKind("ssh", m.SshAction, "tui.executors.ssh:SshExecutor", _ssh_target, on_hosts=True),
    StepKind("local", m.LocalAction, "tui.executors.local:LocalExecutor", lambda a: "local"),
    StepKind(
        "http", m.HttpAction, "tui.executors.http:HttpExecutor", lambda a: f"{a.method} {a.url}", resolves_target=True
    ),
    StepKind(
        "sql",
        m.SqlAction,
        "tui.executors.sql:SqlExecutor",
        lambda a: f"${a.dsn_env}" if a.dsn_env else "database",
        resolves_target=True,
    ),
    StepKind(
        "git",
        m.GitAction,
        "tui.executors.git:GitExecutor",
        lambda a: f"{a.repo}@{a.tag or a.ref}",
        resolves_target=True,
    ),
    StepKind("manual", m.ManualAction, "tui.executors.manual:ManualExecutor", lambda a: "manual", prose=True),
    StepKind("notify", m.NotifyAction, "tui.executors.notify:NotifyExecutor", lambda a: "notify", prose=True),
    StepKind("wait", m.WaitAction, "tui.executors.wait:WaitExecutor", _wait_target),
    StepKind("prometheus", m.PrometheusAction, "tui.executors.prometheus:PrometheusExecutor", lambda a: a.query),
)

STEP_KINDS: dict[str, StepKind] = {entry.name: entry for entry in _ENTRIES}
KINDS: tuple[str, ...] = tuple(STEP_KINDS)


class UnknownKind(KeyError):
    """A kind with no entry in the registry: a programming error, named loudly."""

    def __str__(self) -> str:
        return f"step kind {self.args[0]!r} is not in tui/runbook/kinds.py (known: {', '.join(KINDS)})"


def step_kind(name: str) -> StepKind:
    try:
        return STEP_KINDS[name]
    except KeyError:
        raise UnknownKind(name) from None


def _union_models(hint: object = m.Step) -> tuple[type[m.Action], ...]:
    """The model classes in ``hint`` (``Annotated[Union[...], ...]``, however nested)."""
    if isinstance(hint, type) and issubclass(hint, m.Action):
        return (hint,)
    return tuple(cls for arg in typing.get_args(hint) for cls in _union_models(arg))


def check_registry(models: tuple[type[m.Action], ...], entries: tuple[StepKind, ...]) -> None:
    """Raise if the ``Step`` union's models and the registry's do not match one to one, or an
    entry's name is not its model's ``kind``."""
    for entry in entries:
        literal = typing.get_args(entry.model.model_fields["kind"].annotation)
        if literal != (entry.name,):
            raise RuntimeError(f"step kind {entry.name!r}: its model {entry.model.__name__} has kind {literal}")
    registered = {entry.model for entry in entries}
    unregistered = [cls.__name__ for cls in models if cls not in registered]
    if unregistered:
        raise RuntimeError(f"{', '.join(unregistered)} in model.Step but not in tui/runbook/kinds.py")
    outside = [entry.name for entry in entries if entry.model not in models]
    if outside:
        raise RuntimeError(f"step kinds {', '.join(outside)} are in tui/runbook/kinds.py but not in model.Step")


check_registry(_union_models(), _ENTRIES)
