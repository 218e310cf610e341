"""Resolving params, vars, profiles and secrets into a session's placeholder scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.engine.values import ValuesError, resolve
from tui.runbook.loader import load_text
from tui.runbook.model import Runbook
from tui.runbook.placeholders import Value

RUNBOOK = """schema = 1
id = "v"
title = "values"
service = "svc"

[params.count]
type = "int"
default = 2
[params.mode]
type = "choice"
choices = ["fast", "safe"]
default = "safe"
[params.ticket]
pattern = "INC-[0-9]+"
required = true
[params.pin]
secret = true
[params.wait]
type = "duration"
default = "5m"
[params.flag]
type = "bool"
default = false

[vars]
api = "http://{{ host }}:8080"
host = "app.internal"
label = "{{ ticket }} on {{ host }}"
auth = "Bearer {{ token }}"

[secrets.token]
env = "VALUES_TEST_TOKEN"
[secrets.filed]
file = "{path}"

[hosts.app1]
address = "{{ host }}"
user = "deploy"

[profiles.staging]
vars = { host = "staging.internal" }
hosts = { app1 = { address = "10.0.0.9" } }

[plans.A]
title = "p"
[[plans.A.steps]]
id = "s"
kind = "local"
run = "echo {{ api }} {{ label }} {{ auth }} {{ count }} {{ mode }} {{ pin }} {{ wait }} {{ flag }} {{ filed }}"
"""


@pytest.fixture
def runbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runbook:
    monkeypatch.setenv("VALUES_TEST_TOKEN", "tok-123")
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("from-file\n")
    loaded = load_text(RUNBOOK.replace("{path}", str(secret_file)))
    assert loaded.ok, loaded.problems
    assert loaded.runbook is not None
    return loaded.runbook


BUILTINS = {"service": Value("svc", trusted=True)}


def test_vars_reference_params_and_other_vars_with_trust_tracked(runbook: Runbook) -> None:
    values = resolve(runbook, {"ticket": "INC-42", "pin": "9876"}, builtins=BUILTINS)
    scope = values.scope
    assert scope["api"] == Value("http://app.internal:8080", trusted=True)
    assert scope["label"] == Value("INC-42 on app.internal", trusted=False)  # built from operator input
    assert scope["auth"] == Value("Bearer tok-123", trusted=False, secret=True)
    assert scope["count"] == Value("2", trusted=True)
    assert scope["pin"] == Value("9876", trusted=False, secret=True)
    assert scope["filed"].text == "from-file" and scope["filed"].secret
    assert set(values.secrets) == {"tok-123", "from-file", "9876"}
    assert values.params["pin"] == "••••••"
    assert values.params["ticket"] == "INC-42"
    assert values.hosts["app1"].address == "app.internal"


def test_profile_overrides_vars_and_hosts(runbook: Runbook) -> None:
    values = resolve(runbook, {"ticket": "INC-1"}, builtins=BUILTINS, profile="staging")
    assert values.scope["api"].text == "http://staging.internal:8080"
    assert values.hosts["app1"].address == "10.0.0.9"


def test_operator_override_of_a_var_is_untrusted(runbook: Runbook) -> None:
    values = resolve(runbook, {"ticket": "INC-1", "host": "evil/../x"}, builtins=BUILTINS)
    assert values.scope["host"] == Value("evil/../x", trusted=False)
    assert values.scope["api"].trusted is False


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "param 'ticket' is required: pass --var ticket=VALUE"),
        ({"ticket": "JIRA-1"}, "does not match"),
        ({"ticket": "INC-1", "count": "two"}, "'two' is not a whole number"),
        ({"ticket": "INC-1", "mode": "yolo"}, "'yolo' is not one of fast, safe"),
        ({"ticket": "INC-1", "wait": "soon"}, "cannot read 'soon' as a duration"),
        ({"ticket": "INC-1", "flag": "maybe"}, "'maybe' is not true or false"),
        ({"ticket": "INC-1", "bogus": "1"}, "--var bogus: no param or var of that name"),
    ],
)
def test_bad_params_are_one_clear_line(runbook: Runbook, given: dict[str, str], message: str) -> None:
    with pytest.raises(ValuesError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve(runbook, given, builtins=BUILTINS)


def test_missing_secret_and_unknown_profile(runbook: Runbook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VALUES_TEST_TOKEN")
    with pytest.raises(ValuesError, match="environment variable VALUES_TEST_TOKEN is not set"):
        resolve(runbook, {"ticket": "INC-1"}, builtins=BUILTINS)
    with pytest.raises(ValuesError, match="profile 'prod' is not defined"):
        resolve(runbook, {"ticket": "INC-1"}, builtins=BUILTINS, profile="prod", secrets={"token": "t", "filed": "f"})


def test_bool_and_int_are_normalised(runbook: Runbook) -> None:
    values = resolve(runbook, {"ticket": "INC-1", "flag": "YES", "count": "+007"}, builtins=BUILTINS)
    assert values.scope["flag"].text == "true"
    assert values.scope["count"].text == "7"


def test_a_bad_secret_param_is_refused_without_echoing_it(runbook: Runbook) -> None:
    loaded = load_text(
        RUNBOOK.replace("[params.pin]\nsecret = true", '[params.pin]\nsecret = true\npattern = "[0-9]{4}"')
    )
    assert loaded.runbook is not None
    with pytest.raises(ValuesError) as caught:
        resolve(
            loaded.runbook,
            {"ticket": "INC-1", "pin": "hunter2"},
            builtins=BUILTINS,
            secrets={"token": "t", "filed": "f"},
        )
    assert "hunter2" not in str(caught.value) and "param 'pin'" in str(caught.value)
