"""The result a session ends with when its plan's last step fails: the plan stopped there, so
the rollback failed; only a failure the runbook (or the operator) chose to go on past is partial."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_engine_session import start, write_runbook

LAST_STEP_FAILS = """
[plans.A]
title = "the last step fails"
[[plans.A.steps]]
id = "fine"
kind = "local"
run = "true"
[[plans.A.steps]]
id = "last"
kind = "local"
run = "exit 3"
on_failure = "{on_failure}"
[[plans.A.verify]]
id = "check"
kind = "local"
run = "true"
"""


@pytest.mark.parametrize(
    ("on_failure", "answer", "result"),
    [
        ("stop", None, "failed"),
        ("continue", None, "partial"),
        ("ask", "continue", "partial"),
        ("ask", "abort", "failed"),
    ],
)
async def test_a_failed_last_step_fails_the_session_unless_the_plan_went_on(
    tmp_path: Path, on_failure: str, answer: str | None, result: str
) -> None:
    async def ask(question: object) -> str:
        assert answer is not None
        return answer

    session = start(write_runbook(tmp_path, LAST_STEP_FAILS.format(on_failure=on_failure)), ask=ask)
    await session.choose_plan("A")
    assert await session.run_plan() is False
    assert session.not_run_steps() == []
    assert [r.status for r in await session.verify()] == ["ok"]
    assert await session.end() == result
    await session.close()
