"""Secrets read for the chosen plan only; empty optional params stop the step they land in."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.engine import events as ev
from tui.engine.journal import read_events
from tui.engine.session import Session, SessionError, StartOptions
from tui.runbook.loader import load_or_raise

RUNBOOK = """schema = 1
id = "envt"
title = "env test"
service = "svc"
target_version = "v1"

[params.tag]
prompt = "tag to go back to"

[params.extra]
prompt = "extra words"
allow_empty = true

[params.build]
default = "b-1"
pattern = "b-[0-9]+"

[secrets.api_token]
env = "ENVT_API_TOKEN"

[secrets.db_password]
env = "ENVT_DB_PASSWORD"

[secrets.stripe]
file = "{stripe_file}"

[vars]
auth = "Bearer {{{{ api_token }}}}"

[[checks]]
id = "disk"
kind = "local"
run = "true"

[plans.emergency]
title = "no secret at all"
[[plans.emergency.steps]]
id = "down"
kind = "local"
run = "echo down > {out}/down"
[[plans.emergency.steps]]
id = "reset"
kind = "local"
run = "echo reset {{{{ tag }}}} > {out}/reset"
[[plans.emergency.steps]]
id = "words"
kind = "local"
run = "echo words {{{{ extra }}}} {{{{ build }}}}"

[plans.api]
title = "uses the api token through a var"
[[plans.api.steps]]
id = "call"
kind = "local"
run = "echo {{{{ auth }}}} | wc -c"

[plans.db]
title = "uses the db password from the environment"
[[plans.db.steps]]
id = "psql"
kind = "local"
run = "test -n \\"$ENVT_DB_PASSWORD\\""
[[plans.db.verify]]
id = "stripe"
kind = "local"
run = "test {{{{ stripe }}}} = x"
"""


@pytest.fixture
def runbook_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ENVT_API_TOKEN", "ENVT_DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "out"
    out.mkdir()
    path = tmp_path / "envt.toml"
    path.write_text(RUNBOOK.format(out=out, stripe_file=tmp_path / "no-such-stripe"), encoding="utf-8")
    return path


def _start(path: Path, **options: object) -> Session:
    return Session.start(load_or_raise(path), str(path), StartOptions(**options))  # type: ignore[arg-type]


def test_a_plan_without_secrets_starts_with_none_set(runbook_file: Path) -> None:
    session = _start(runbook_file, plan="emergency", yes=True)
    asyncio.run(session.close())


@pytest.mark.parametrize(
    ("plan", "named"),
    [("api", ["'api_token'", "ENVT_API_TOKEN"]), ("db", ["'db_password'", "ENVT_DB_PASSWORD", "'stripe'"])],
)
def test_a_plan_is_refused_for_its_own_missing_secrets_only(runbook_file: Path, plan: str, named: list[str]) -> None:
    with pytest.raises(SessionError) as raised:
        _start(runbook_file, plan=plan)
    message = str(raised.value)
    assert "\n" not in message
    for text in named:
        assert text in message
    others = {"api": ["db_password", "stripe"], "db": ["api_token"]}[plan]
    for other in others:
        assert other not in message


def test_console_order_reads_the_plans_secrets_when_the_plan_is_chosen(
    runbook_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def go() -> None:
        session = _start(runbook_file)  # the console starts before the plan is known
        try:
            with pytest.raises(
                SessionError, match=r"plan api: secret 'api_token': environment variable ENVT_API_TOKEN"
            ):
                await session.choose_plan("api")
            assert session.state.plan is None  # refused: nothing chosen, nothing journaled as chosen
            monkeypatch.setenv("ENVT_API_TOKEN", "tok-123456789")
            await session.choose_plan("api")
            result = await session.run_step("call")
            assert result.status == "ok", result.detail
        finally:
            await session.close()
        journal = (session.dir / "journal.jsonl").read_text(encoding="utf-8")
        assert "tok-123456789" not in journal
        assert not any("tok-123456789" in p.read_text() for p in (session.dir / "output").iterdir())

    asyncio.run(go())


def test_a_secret_another_plan_uses_is_still_masked_when_set(
    runbook_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENVT_DB_PASSWORD", "pw-abcdefgh")
    body = runbook_file.read_text(encoding="utf-8").replace("echo words", "echo $ENVT_DB_PASSWORD words")
    runbook_file.write_text(body, encoding="utf-8")

    async def go() -> Session:
        session = _start(runbook_file, plan="emergency", yes=True, values={"tag": "v1", "extra": ""})
        await session.choose_plan("emergency")
        await session.run_plan()
        await session.close()
        return session

    session = asyncio.run(go())
    outputs = "".join(p.read_text() for p in (session.dir / "output").iterdir())
    assert "words" in outputs and "pw-abcdefgh" not in outputs


def test_empty_optional_param_stops_its_step_naming_it(runbook_file: Path) -> None:
    out = runbook_file.parent / "out"

    async def go() -> Session:
        session = _start(runbook_file, plan="emergency", yes=True)
        await session.choose_plan("emergency")
        assert await session.run_plan() is False
        assert "param 'tag' is empty" in session.stop_reason
        await session.close()
        return session

    session = asyncio.run(go())
    assert (out / "down").exists()
    assert not (out / "reset").exists()  # stopped before it ran: no `reset ''`
    finished = [e for e in read_events(session.dir / "journal.jsonl") if e.type == ev.STEP_FINISHED]
    assert [(e.data["id"], e.data["status"]) for e in finished] == [("down", "ok"), ("reset", "error")]


def test_allow_empty_param_lands_empty_and_given_values_land(runbook_file: Path) -> None:
    out = runbook_file.parent / "out"

    async def go() -> bool:
        session = _start(runbook_file, plan="emergency", yes=True, values={"tag": "v1.2"})
        await session.choose_plan("emergency")
        try:
            return await session.run_plan()
        finally:
            await session.close()

    assert asyncio.run(go()) is True
    assert (out / "reset").read_text() == "reset v1.2\n"


def test_pattern_is_checked_for_defaults_too(runbook_file: Path) -> None:
    body = runbook_file.read_text(encoding="utf-8").replace('default = "b-1"', 'default = "b-x"')
    runbook_file.write_text(body, encoding="utf-8")
    with pytest.raises(SessionError, match=r"param 'build': 'b-x' does not match"):
        _start(runbook_file, plan="emergency", values={"tag": "v1"})


def test_dry_run_reports_the_missing_secret_and_the_empty_param(runbook_file: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVT_")}
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(runbook_file), "--plan", "db", "--dry-run"],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "dry run: secret 'db_password': environment variable ENVT_DB_PASSWORD is not set" in done.stdout
    assert "dry run: secret 'stripe': cannot read" in done.stdout
    assert "api_token" not in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(runbook_file), "--plan", "emergency", "--dry-run"],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "dry run: step reset would stop: param 'tag' is empty" in done.stdout
    assert "words would stop" not in done.stdout  # extra allows empty, build has a default
