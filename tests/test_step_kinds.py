"""The step-kind registry is the one list of kinds: the model, the loader, the executors and the
screens read it, and a kind missing from it (or from the model) fails loudly."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from pydantic import TypeAdapter

from screens.status import resolved_target, target_of
from tui.executors import executor_class
from tui.executors.base import Executor
from tui.runbook import kinds
from tui.runbook.kinds import KINDS, STEP_KINDS, UnknownKind, check_registry, step_kind
from tui.runbook.loader import load_text
from tui.runbook.model import Action, Step

# The smallest valid action of each kind, and where the screens say it acts.
EXAMPLES: dict[str, tuple[dict[str, object], str]] = {
    "ssh": ({"group": "web", "run": "uptime"}, "web"),
    "local": ({"run": "true"}, "local"),
    "http": ({"url": "http://127.0.0.1:9/health", "method": "HEAD"}, "HEAD http://127.0.0.1:9/health"),
    "sql": ({"dsn_env": "DB_URL", "query": "select 1"}, "$DB_URL"),
    "git": ({"repo": "/srv/app", "tag": "v1.2"}, "/srv/app@v1.2"),
    "manual": ({"instruction": "call the DBA"}, "manual"),
    "notify": ({"message": "rolling back"}, "notify"),
    "wait": ({"seconds": "1m30s"}, "90s"),
    "prometheus": ({"url": "http://127.0.0.1:9", "query": "up", "expect": "== 1"}, "up"),
}


def test_every_kind_has_an_example_here() -> None:
    # A new kind must say here how the screens show it.
    assert set(EXAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_loads_runs_and_shows(kind: str) -> None:
    fields, shown = EXAMPLES[kind]
    action = TypeAdapter(Step).validate_python({"id": "a", "kind": kind, **fields})
    entry = step_kind(kind)
    assert type(action) is entry.model
    assert target_of(action) == shown
    assert issubclass(executor_class(kind), Executor)
    started = {"kind": kind, "describe": ["resolved line"]}
    assert resolved_target(started) == ("resolved line" if entry.resolves_target else "")


def test_the_loader_names_every_kind() -> None:
    text = 'schema = 1\nid = "r"\ntitle = "t"\nservice = "s"\n[plans.a]\ntitle = "A"\n[[plans.a.steps]]\nid = "x"\nkind = "telnet"\n'
    loaded = load_text(text, "r.toml")
    assert [p.message for p in loaded.problems] == [
        f"unknown kind 'telnet' in plans.a.steps.0 (expected one of: {', '.join(KINDS)})"
    ]


def test_an_unknown_kind_is_named() -> None:
    with pytest.raises(UnknownKind, match=re.escape("'telnet' is not in tui/runbook/kinds.py")):
        step_kind("telnet")
    with pytest.raises(UnknownKind):
        executor_class("telnet")


class TelnetAction(Action):
    kind: Literal["telnet"]


def test_a_model_missing_from_the_registry_fails_loudly() -> None:
    models = (*kinds._union_models(), TelnetAction)
    with pytest.raises(RuntimeError, match=re.escape("TelnetAction in model.Step but not in tui/runbook/kinds.py")):
        check_registry(models, tuple(STEP_KINDS.values()))


def test_a_registry_entry_missing_from_the_model_fails_loudly() -> None:
    entries = (*STEP_KINDS.values(), kinds.StepKind("telnet", TelnetAction, "x:Y", lambda a: "telnet"))
    with pytest.raises(RuntimeError, match=re.escape("telnet are in tui/runbook/kinds.py but not in model.Step")):
        check_registry(kinds._union_models(), entries)


def test_an_entry_named_unlike_its_model_fails_loudly() -> None:
    wrong = kinds.StepKind("shell", STEP_KINDS["ssh"].model, "x:Y", lambda a: "")
    with pytest.raises(RuntimeError, match="'shell': its model SshAction has kind"):
        check_registry(kinds._union_models(), (wrong,))
