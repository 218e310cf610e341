"""The ``when`` condition language on its own: grammar, errors with their offsets, evaluation."""

from __future__ import annotations

import pytest

from tui.runbook.conditions import ConditionError, Name, evaluate, parse

VALUES: dict[str, bool | str] = {
    "steps.script.failed": True,
    "steps.script.ok": False,
    "steps.a.b-c.ok": True,
    "checks.health.ok": False,
    "captured.rate": "0.07",
    "captured.pct": "7%",
    "captured.backup": "20260101_020000",
    "captured.word": "abc",
    "params.mode": "auto",
    "params.force": "true",
    "vars.limit": "0.05",
}


def run(text: str) -> tuple[bool, str]:
    return evaluate(parse(text), lambda name: VALUES.get(name.text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("steps.script.failed", True),
        ("not steps.script.failed", False),
        ("checks.health.ok == false", True),
        ("checks.health.ok != false", False),
        ("captured.rate > 0.05", True),
        ("captured.rate <= 0.05", False),
        ("captured.rate > vars.limit", True),  # two texts that are numbers compare as numbers
        ("captured.pct > 0.05", True),  # 7% is 0.07
        ("captured.backup == '20260101_020000'", True),
        ('params.mode == "auto"', True),
        ("params.force", True),
        ("params.force == true", True),
        ("steps.a.b-c.ok", True),  # ids may hold dots and dashes
        ("steps.script.ok or checks.health.ok", False),
        ("steps.script.failed and not (checks.health.ok or steps.script.ok)", True),
        # `and` binds tighter than `or`
        ("steps.script.failed or steps.script.ok and checks.health.ok", True),
        ("(steps.script.failed or steps.script.ok) and checks.health.ok", False),
        ("not not steps.script.failed", True),
        ("captured.rate == 0.07", True),
        ("captured.word != 'abc'", False),
    ],
)
def test_evaluates(text: str, expected: bool) -> None:
    assert run(text)[0] is expected


def test_reports_the_values_it_saw_and_only_those() -> None:
    holds, seen = run("captured.rate > 0.05 and params.mode == 'auto'")
    assert holds
    assert seen == "captured.rate = '0.07'; params.mode = 'auto'"
    # `or` stops at the first true part: what it never looked at is not claimed as seen
    assert run("steps.script.failed or captured.rate > 1")[1] == "steps.script.failed = true"


def test_a_secret_value_is_masked_in_what_it_saw() -> None:
    _, seen = evaluate(
        parse("params.mode == 'auto'"), lambda name: VALUES.get(name.text), mask=lambda name: name.ident == "mode"
    )
    assert seen == "params.mode = ••••••"


@pytest.mark.parametrize(
    ("text", "message", "pos"),
    [
        ("", "empty", 0),
        ("steps.x.ok ==", "expected a name or a value at the end", 13),
        ("steps.x.ok = true", "'=' is not an operator", 11),
        ("steps.x.ok and", "at the end", 14),
        ("(steps.x.ok", "expected ')'", 11),
        ("steps.x.ok)", "unexpected ')'", 10),
        ("steps.x.done", "write steps.ID.ok / failed / skipped", 8),
        ("checks.x.skipped", "write checks.ID.ok / failed", 9),
        ("steps", "needs a name", 0),
        ("foo.bar", "unknown name 'foo.bar'", 0),
        ("auto", "write text in quotes", 0),
        ("params.mode == 'auto", "unterminated string", 15),
        ("__import__('os').system('id')", "unexpected character '.'", 16),
        ("__import__ == 1", "unknown name '__import__'", 0),
        ("captured.a < 1 < 2", "do not chain", 15),
        ("steps.x.ok steps.y.ok", "unexpected 'steps.y.ok'", 11),
        ("captured.a ; rm -rf /", "unexpected character ';'", 11),
        ("and steps.x.ok", "before 'and'", 0),
        ("{{ x }}", "unexpected character '{'", 0),
    ],
)
def test_syntax_errors_say_where(text: str, message: str, pos: int) -> None:
    with pytest.raises(ConditionError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert caught.value.pos == pos


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse("(" * 500 + "steps.x.ok" + ")" * 500)
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse("not " * 100 + "steps.x.ok")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("captured.missing == 'x'", "captured.missing has no value yet"),
        ("captured.word > 1", "cannot order 'abc' > 1: both must be numbers"),
        ("captured.rate", "captured.rate is '0.07', not true or false"),
        ("checks.health.ok < true", "cannot compare"),
        ("captured.word == true", "cannot compare 'abc' == true"),
    ],
)
def test_evaluation_never_guesses(text: str, message: str) -> None:
    with pytest.raises(ConditionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(text)


def test_names_are_listed_with_their_offsets() -> None:
    condition = parse("steps.a.failed and captured.rate > 0.1")
    assert condition.names == (Name("steps", "a", "failed", 0), Name("captured", "rate", "", 19))
