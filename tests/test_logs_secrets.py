"""Secrets never in the log file: the causes the edges write (``tui.logs``) go through the session's
redaction and, before a session exists, through the secrets the runbook has by then; every shape of
the journal's redaction corpus (tests/test_secret_shapes.py), in every place a runbook keeps one,
quoted every way an exception quotes a value. One process, one runbook, batched."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.test_secret_shapes import SHAPES, _needles
from tui import cli, logs, paths
from tui.engine import redact
from tui.engine.api import StartOptions
from tui.engine.session import Session
from tui.runbook.loader import load_or_raise

RUNBOOK = """schema = 1
id = "log-secrets"
title = "Secrets in causes"
service = "vault"

[params.pw]
prompt = "a password typed for the incident"
secret = true
required = false

[secrets.token]
env = "RB_LOG_TOKEN"

[secrets.pem]
file = "{pem}"

[profiles.staging]
kind = "staging"
[profiles.staging.secrets.token]
env = "RB_LOG_STAGING_TOKEN"

[[checks]]
id = "db"
kind = "sql"
dsn_env = "RB_LOG_DSN"
query = "SELECT 1"

[plans.A]
title = "tell people"
[[plans.A.steps]]
id = "tell"
kind = "notify"
message = "rolling back"
webhook_env = "RB_LOG_HOOK"
"""

# Where a runbook keeps a secret, and how the CLI edge can know it before any session exists.
PLACES = ("env", "staging env", "file", "--var", "DSN env", "webhook env")


def quoted_every_way(value: str) -> str:
    """How exception messages carry a value: as is, repr'd, inside a word, in a DSN and a webhook
    URL (percent-encoded), in a header, on lines of its own."""
    return "\n".join(
        [
            f"plain {value}",
            f"repr {value!r} and {value.encode()!r}",
            f"in a word: xx{value}yy",
            f"dsn postgresql://app:{quote(value, safe='')}@db.internal:5432/orders",
            f"dsn host=db user=app password={value} dbname=orders",
            f"hook https://oapi.dingtalk.com/robot/send?access_token={quote(value, safe='')}&timestamp=1",
            f"headers {{'Authorization': 'Bearer {value}', 'X-Token': {value!r}}}",
            f"lines:\n{value}\n--",
        ]
    )


def leaks(text: str, secrets: list[str], where: str) -> list[str]:
    found = []
    for secret in secrets:
        hits = sorted(n for n in _needles(secret) if n in text)
        if hits:
            at = text.find(hits[0])
            found.append(f"{secret!r} in {where}: {hits[:3]} at {text[max(0, at - 60) : at + 30]!r}")
    return found


@pytest.fixture
def runbook(tmp_path: Path) -> Path:
    path = tmp_path / "log-secrets.toml"
    path.write_text(RUNBOOK.format(pem=tmp_path / "pem.txt"), encoding="utf-8")
    return path


def rounds(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Every shape in every place: round r puts shape r + k in place k. Each round starts with
    the process's log masks as a fresh process has them (what earlier rounds masked must not
    hide what this one fails to)."""
    for r in range(len(SHAPES)):
        fresh = redact.LogMask()
        monkeypatch.setattr(redact, "LOG_MASK", fresh)
        monkeypatch.setattr(logs, "_masks", [fresh])
        yield {place: SHAPES[(r + k) % len(SHAPES)] for k, place in enumerate(PLACES)}


def emptied(log: Path) -> None:
    log.write_text("", encoding="utf-8")  # not unlinked: a handler may hold it open (appending)


def set_places(secrets: dict[str, str], pem: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RB_LOG_TOKEN", secrets["env"])
    monkeypatch.setenv("RB_LOG_STAGING_TOKEN", secrets["staging env"])
    monkeypatch.setenv("RB_LOG_DSN", f"postgresql://app:{quote(secrets['DSN env'], safe='')}@127.0.0.1:1/x")
    monkeypatch.setenv("RB_LOG_HOOK", secrets["webhook env"])
    # A file secret is read without its trailing newlines: keep the shape as it is read.
    pem.write_text(secrets["file"], encoding="utf-8")


def test_causes_logged_before_a_session_exists_mask_the_runbooks_secrets(
    runbook: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tui.commands.run as run

    pem = runbook.parent / "pem.txt"
    hits: list[str] = []
    logged = 0
    for index, secrets in enumerate(rounds(monkeypatch)):
        set_places(secrets, pem, monkeypatch)
        # What the failing code held: the secrets as read (a file's without its last newline),
        # the DSN and the webhook URL as the environment has them.
        known = [v for k, v in secrets.items() if k != "file"] + [pem.read_text(encoding="utf-8").rstrip("\r\n")]
        text = "\n".join(quoted_every_way(s) for s in [*known, os.environ["RB_LOG_DSN"]])

        def broken(args: Any, text: str = text) -> int:
            try:
                raise KeyError(text)
            except KeyError as cause:
                logging.getLogger("tui.engine.opening").warning("reading a secret: %s", text, exc_info=True)
                raise RuntimeError(f"cannot start: {text}") from cause

        monkeypatch.setattr(run, "main", broken)
        argv = ["run", str(runbook), "--plan", "A", "--var", f"pw={secrets['--var']}"]
        assert cli.main(argv) == cli.EXIT_FAILED
        err = capsys.readouterr().err
        log = logs.default_log()
        written = log.read_text(encoding="utf-8")
        assert f"the cause is in {log}" in err and "RuntimeError: cannot start" in written
        assert "KeyError" in written and "reading a secret" in written, "the cause, its chain and the warning"
        hits += leaks(written, known, f"round {index} log") + leaks(err, known, f"round {index} stderr")
        logged += written.count("Traceback (most recent call last)")
        emptied(log)
        if len(hits) > 40:
            break
    print(f"\nlog secrets before a session: {len(SHAPES)} rounds x {len(PLACES)} places, {logged} tracebacks")
    assert not hits, "\n".join(hits[:40])


async def test_causes_logged_after_a_session_closed_mask_what_it_redacted(
    runbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's own redaction: the environment and the file it read are gone by the time
    the cause is written, so only the session's redactor can know the values."""
    loaded = load_or_raise(runbook)
    pem = runbook.parent / "pem.txt"
    logs.configure()
    hits: list[str] = []
    for index, secrets in enumerate(rounds(monkeypatch)):
        set_places(secrets, pem, monkeypatch)
        values = {"pw": secrets["--var"]}
        session = await asyncio.to_thread(Session.start, loaded, str(runbook), StartOptions(values=values, plan="A"))
        assert session.redact(secrets["env"]) != secrets["env"]
        await session.close()
        read = [secrets["env"], secrets["--var"], pem.read_text(encoding="utf-8").rstrip("\r\n")]
        monkeypatch.delenv("RB_LOG_TOKEN")
        pem.unlink()
        text = "\n".join(quoted_every_way(s) for s in read)
        try:
            raise ValueError(text)
        except ValueError as exc:
            logging.getLogger("tui.engine.runner").error("closing an executor: %s", text, exc_info=True)
            where = logs.report("step tell", exc, session.dir)
        assert where == session.dir / logs.LOG_NAME
        for log in (where, logs.default_log()):
            written = log.read_text(encoding="utf-8")
            assert "ValueError" in written
            hits += leaks(written, read, f"round {index} {log.name} in {log.parent.name}")
        emptied(logs.default_log())
        emptied(where)
        if len(hits) > 40:
            break
    assert paths.sessions_dir().is_dir()
    assert not hits, "\n".join(hits[:40])


def test_secret_shapes_are_masked_whatever_the_runbook_declares() -> None:
    """A DSN's or URL's password, a conninfo password, a bearer token, a webhook token: masked by
    their place, even when no secret names them (a DSN written into a var, a header typed in)."""
    lines = {
        "postgresql://app:Tr0ub4dor-x@db:5432/orders": "Tr0ub4dor-x",
        "https://bot:hunter2hunter@hooks.example/x": "hunter2hunter",
        "host=db password='a b c secretish' user=app": "a b c secretish",
        "host=db password=plainPass99 user=app": "plainPass99",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def": "eyJhbGciOiJIUzI1NiJ9",
        "{'authorization': 'Basic YWxhZGRpbjpvcGVuc2VzYW1l'}": "YWxhZGRpbjpvcGVuc2VzYW1l",
        "https://oapi.dingtalk.com/robot/send?access_token=9f8e7d6c5b4a&x=1": "9f8e7d6c5b4a",
        "https://open.feishu.cn/hook?sign=Zm9vYmFyYmF6cXV4": "Zm9vYmFyYmF6cXV4",
    }
    for line, secret in lines.items():
        shown = logs.masked(f"connect failed: {line}")
        assert secret not in shown and logs.MASK in shown, shown
    kept = "GET https://status.example:8443/v1/health?verbose=1 took 12ms (token expired for user app)"
    assert logs.masked(kept) == kept, "what is not secret stays readable for a maintainer"


async def test_the_console_edge_masks_the_message_on_screen_and_the_log(
    runbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An engine call that fails before a session exists: the toast and the log hold no secret the
    runbook on screen has (its env, file, DSN and webhook values, a secret --var)."""
    from tui.app import create_app

    pem = runbook.parent / "pem.txt"
    secrets = dict(zip(PLACES, SHAPES[:6], strict=True))
    set_places(secrets, pem, monkeypatch)
    known = [v for k, v in secrets.items() if k != "file"] + [pem.read_text(encoding="utf-8").rstrip("\r\n")]
    text = "\n".join(quoted_every_way(s) for s in [*known, os.environ["RB_LOG_DSN"]])
    fresh = redact.LogMask()
    monkeypatch.setattr(redact, "LOG_MASK", fresh)
    monkeypatch.setattr(logs, "_masks", [fresh])
    app = create_app(runbook, start=StartOptions(values={"pw": secrets["--var"]}))
    seen: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **kw: seen.append(str(message)))

    async def broken() -> None:
        raise ValueError(text)

    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(50):
            if app.loaded is not None:
                break
            await pilot.pause(0.05)
        assert app.loaded is not None and app.loaded.runbook is not None
        worker = app.engine(broken(), "Start the incident")
        await worker.wait()
        await pilot.pause()
    log = logs.default_log()
    [message] = [m for m in seen if "ValueError" in m]
    assert message.endswith(f"(the cause is in {log})") and logs.MASK in message
    written = log.read_text(encoding="utf-8")
    assert "ValueError" in written and "Traceback" in written
    hits = leaks(message, known, "the toast") + leaks(written, known, "the log")
    assert not hits, "\n".join(hits)
