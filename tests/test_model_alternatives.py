"""Fields that are alternatives (tui/runbook/model.py ``Model.ONE_OF`` / ``AT_MOST_ONE``): one
rule, one wording, for every model that has them; an empty list is not given."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from tui.runbook.model import ActionOverride, FlowNode, Secret, Step

STEP = TypeAdapter(Step)
CASES: list[tuple[Any, dict[str, Any], str | None]] = [
    (Secret, {}, "a secret needs exactly one of 'env' or 'file'"),
    (Secret, {"env": "A", "file": "/f"}, "a secret needs exactly one of 'env' or 'file'"),
    (Secret, {"env": ""}, None),  # given, though empty: the loader says what an empty name means
    (ActionOverride, {"dsn": "a", "dsn_env": "B"}, "an action override takes at most one of 'dsn' or 'dsn_env'"),
    (
        ActionOverride,
        {"webhook": "a", "webhook_env": "B"},
        "an action override takes at most one of 'webhook' or 'webhook_env'",
    ),
    (ActionOverride, {"dsn": "a", "check_dsn_env": "B", "webhook_env": "C"}, None),
    (FlowNode, {"text": "t"}, "a flow node needs exactly one of 'next', 'options' (with 'ask'), 'plan' or 'action'"),
    (FlowNode, {"text": "t", "next": "a", "options": []}, None),
    (
        FlowNode,
        {"text": "t", "next": "a", "plan": "A"},
        "a flow node needs exactly one of 'next', 'options' (with 'ask'), 'plan' or 'action'",
    ),
    (STEP, {"kind": "ssh", "run": "x"}, "an ssh action needs exactly one of 'host', 'hosts' or 'group'"),
    (STEP, {"kind": "ssh", "run": "x", "host": "h", "hosts": []}, None),
    (
        STEP,
        {"kind": "ssh", "run": "x", "host": "h", "group": "g"},
        "an ssh action needs exactly one of 'host', 'hosts' or 'group'",
    ),
    (STEP, {"kind": "sql", "query": "q"}, "a sql action needs exactly one of 'dsn' or 'dsn_env'"),
    (
        STEP,
        {"kind": "sql", "query": "q", "dsn": "d", "check_dsn": "c", "check_dsn_env": "C"},
        "a sql action takes at most one of 'check_dsn' or 'check_dsn_env'",
    ),
    (
        STEP,
        {"kind": "git", "repo": "r", "ref": "main", "tag": "v1"},
        "a git action needs exactly one of 'ref' or 'tag'",
    ),
    (
        STEP,
        {"kind": "notify", "message": "m", "template": "t"},
        "a notify action needs exactly one of 'template' or 'message'",
    ),
    (
        STEP,
        {"kind": "notify", "message": "m", "webhook": "w", "webhook_env": "W"},
        "a notify action takes at most one of 'webhook' or 'webhook_env'",
    ),
    (STEP, {"kind": "wait"}, "a wait needs exactly one of 'seconds' (a pause) or 'until' (a check id to poll)"),
    (
        STEP,
        {"kind": "wait", "seconds": 1, "until": "c", "deadline": 5},
        "a wait needs exactly one of 'seconds' (a pause) or 'until' (a check id to poll)",
    ),
    (STEP, {"kind": "wait", "until": "c"}, "a wait with 'until' needs a 'deadline'"),  # a model's own rule still runs
]


@pytest.mark.parametrize(("model", "fields", "message"), CASES)
def test_alternatives_say_one_rule_in_one_wording(model: Any, fields: dict[str, Any], message: str | None) -> None:
    data = {"id": "a", **fields} if model is STEP else fields
    validate = model.validate_python if model is STEP else model.model_validate
    if message is None:
        validate(data)
        return
    with pytest.raises(ValidationError) as raised:
        validate(data)
    assert [error["msg"] for error in raised.value.errors()] == [f"Value error, {message}"]
