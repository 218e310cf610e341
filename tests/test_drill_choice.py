"""Which plan, scenario, profile and target a drill gets from the command line and the runbook."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import RUNBOOKS
from tui.drill.scenario import DrillChoiceError, choose
from tui.runbook.loader import load_or_raise, load_text

RUNBOOK = """
schema = 1
id = "two"
title = "two plans"
service = "svc"

[[severity]]
level = "P0"
plan = "B"

[profiles.staging]
vars = { host = "staging" }
[profiles.lab]
vars = { host = "lab" }

[vars]
host = "prod"

[plans.A]
title = "A"
target_minutes = 10
[[plans.A.steps]]
id = "a"
kind = "local"
run = "true"

[plans.B]
title = "B"
target_minutes = 30
[[plans.B.steps]]
id = "b"
kind = "local"
run = "true"

[[drills]]
id = "crash"
title = "crash"
profile = "staging"
plan = "B"
target_minutes = 20
[[drills]]
id = "slow"
title = "slow"
plan = "A"
"""


def runbook(text: str = RUNBOOK):
    loaded = load_text(text)
    assert loaded.ok, loaded.problems
    return loaded.runbook


def test_first_scenario_by_default_with_its_profile_and_target() -> None:
    choice = choose(runbook())
    assert (choice.plan, choice.scenario_id, choice.profile, choice.target_minutes) == ("B", "crash", "staging", 20)


def test_plan_picks_its_scenario_and_falls_back_to_the_plan_target() -> None:
    choice = choose(runbook(), plan="A")
    assert (choice.scenario_id, choice.profile, choice.target_minutes) == ("slow", None, 10)


def test_named_scenario_and_profile_override() -> None:
    choice = choose(runbook(), scenario="crash", profile="lab")
    assert (choice.plan, choice.profile) == ("B", "lab")


@pytest.mark.parametrize(
    ("plan", "scenario", "profile", "message"),
    [
        ("Z", None, None, "plan 'Z' is not defined (known: A, B)"),
        (None, "nope", None, "scenario 'nope' is not defined (known: crash, slow)"),
        ("A", "crash", None, "scenario 'crash' practises plan 'B', not 'A'"),
        (None, None, "prod", "profile 'prod' is not defined (known: staging, lab)"),
    ],
)
def test_mistakes_are_one_clear_line(plan, scenario, profile, message) -> None:
    with pytest.raises(DrillChoiceError) as caught:
        choose(runbook(), plan, scenario, profile)
    assert str(caught.value) == message


def test_without_scenarios_the_severity_plan_is_drilled_alone() -> None:
    text = RUNBOOK.split("[[drills]]")[0]
    choice = choose(runbook(text))
    assert (choice.plan, choice.scenario, choice.target_minutes) == ("B", None, 30)


def test_demo_drills_plan_a_in_its_sandbox_scenario() -> None:
    demo = load_or_raise(RUNBOOKS / "demo.toml")
    choice = choose(demo)
    assert (choice.plan, choice.scenario_id, choice.target_minutes) == ("A", "bad-release", 3)
    assert [s.id for s in choice.scenario.setup] == ["sandbox", "deploy-v2"]
    assert [s.id for s in choice.scenario.teardown] == ["remove"]


def test_drill_and_demo_modules_import_no_textual() -> None:
    modules = [
        "tui.drill.summary",
        "tui.drill.history",
        "tui.drill.drift",
        "tui.drill.report",
        "tui.drill.scenario",
        "tui.drill.finish",
        "tui.drill.live",
        "tui.demo.sandbox",
        "tui.demo.service",
        "tui.demo.__main__",
        "tui.commands.drill",
    ]
    code = f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\nprint('textual' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"
