"""``notify`` to each chat platform's webhook (a lab server answering as each documents), signed
webhooks, masked URLs, the shared trust store, and a notify with no webhook at all."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab.chat import GOOD, SIGN_SECRET, ChatLab
from tests.lab.web import WebLab
from tui.engine import events as ev
from tui.engine.api import Question
from tui.engine.session import Session, StartOptions
from tui.executors.base import ExecContext
from tui.executors.http import HttpExecutor
from tui.executors.notify import NotifyExecutor, dingtalk_sign, feishu_sign
from tui.record import render_markdown
from tui.runbook.loader import load_text
from tui.runbook.model import HttpAction, NotifyAction, Runbook, SshSettings
from tui.runbook.placeholders import Value

HEAD = """schema = 1
id = "n"
title = "notify"
service = "shop"
target_version = "v1.2.3"
[secrets.sign]
env = "RB_SIGN_SECRET"
[secrets.hook]
env = "RB_HOOK"
[[templates]]
id = "start"
title = "回滚开始"
body = "**{{ service }}** 回滚到 {{ target_version }}"
"""


def runbook(body: str = "") -> Runbook:
    loaded = load_text(HEAD + body + '\n[plans.A]\ntitle = "p"\n[[plans.A.steps]]\nid = "m"\nkind = "manual"\n')
    assert loaded.ok and loaded.runbook is not None, loaded.problems
    return loaded.runbook


def context(rb: Runbook, **values: Value) -> ExecContext:
    scope = {
        "service": Value("shop", trusted=True),
        "target_version": Value("v1.2.3", trusted=True),
        "sign": Value(SIGN_SECRET, secret=True),
        **values,
    }
    return ExecContext(rb, scope, {}, SshSettings(), redact=lambda t: t.replace(SIGN_SECRET, "••••••"))


def action(**fields: Any) -> NotifyAction:
    return NotifyAction.model_validate({"id": "tell", "kind": "notify", "template": "start", **fields})


def sink(host: str, stream: str, text: str) -> None:
    """Output is not what these tests read."""


@pytest.fixture
async def notify() -> AsyncIterator[NotifyExecutor]:
    found = NotifyExecutor()
    yield found
    await found.close()


def hooks(chat: ChatLab, token: str) -> dict[str, str]:
    return {
        "slack": f"{chat.base}/slack/services/{token}",
        "dingtalk": f"{chat.base}/dingtalk/robot/send?access_token={token}",
        "wecom": f"{chat.base}/wecom/cgi-bin/webhook/send?key={token}",
        "feishu": f"{chat.base}/feishu/open-apis/bot/v2/hook/{token}",
    }


async def test_each_platform_gets_its_body_and_accepts(chat: ChatLab, notify: NotifyExecutor) -> None:
    rb = runbook()
    for fmt, url in hooks(chat, GOOD).items():
        for markdown in (False, True):
            outcome = await notify.run(action(webhook=url, format=fmt, markdown=markdown), context(rb), sink)
            assert outcome.status == "ok", (fmt, markdown, outcome.detail)
            assert outcome.detail.endswith("accepted")
    bodies = [r["body"] for r in chat.received]
    message = "**shop** 回滚到 v1.2.3"
    assert bodies == [
        {"text": message, "mrkdwn": False},
        {"text": message, "mrkdwn": True},
        {"msgtype": "text", "text": {"content": message}},
        {"msgtype": "markdown", "markdown": {"title": "回滚开始", "text": message}},
        {"msgtype": "text", "text": {"content": message}},
        {"msgtype": "markdown", "markdown": {"content": message}},
        {"msg_type": "text", "content": {"text": message}},
        {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": "回滚开始"}},
                "elements": [{"tag": "markdown", "content": message}],
            },
        },
    ]


async def test_platform_refusals_fail_with_the_platforms_words(chat: ChatLab, notify: NotifyExecutor) -> None:
    rb = runbook()
    expected = {
        "slack": "HTTP 403, Slack answered 'invalid_token'",
        "dingtalk": "HTTP 200, DingTalk errcode 300001: token is not exist",
        "wecom": "HTTP 200, WeCom errcode 93000: invalid webhook url",
        "feishu": "HTTP 200, Feishu code 19001: param invalid: incoming webhook access token invalid",
    }
    for fmt, url in hooks(chat, "revoked-token-77").items():
        outcome = await notify.run(action(webhook=url, format=fmt), context(rb), sink)
        assert outcome.status == "failed", fmt
        assert expected[fmt] in outcome.detail, outcome.detail
        assert "revoked-token-77" not in outcome.detail + outcome.summary
    # A body the platform does not take is its error too, not a success.
    wrong = await notify.run(action(webhook=hooks(chat, GOOD)["dingtalk"], format="json"), context(rb), sink)
    assert wrong.status == "ok"  # json means "any 2xx": that is what json promises, nothing more
    strict = await notify.run(action(webhook=hooks(chat, GOOD)["wecom"], format="dingtalk"), context(rb), sink)
    assert strict.status == "ok"  # same body shape: WeCom takes DingTalk's text message
    feishu_as_slack = await notify.run(action(webhook=hooks(chat, GOOD)["feishu"], format="slack"), context(rb), sink)
    assert feishu_as_slack.status == "failed" and "Slack answered" in feishu_as_slack.detail


async def test_signed_webhooks_sign_as_documented(chat: ChatLab, notify: NotifyExecutor) -> None:
    # Computed with openssl, as each platform's documentation describes the signature.
    assert dingtalk_sign("SECxyz", 1700000000000) == "0PUR1j8g85Xg3vlFV%2FUrEcxXfF5HpCAGzcjrNfyJoyg%3D"
    assert feishu_sign("SECxyz", 1700000000) == "GnU9dobz1WousiKlH0LX6FYP8yrWNCgoJOvRhpMc8HY="
    rb = runbook()
    signed = hooks(chat, f"{GOOD}-signed")
    for fmt in ("dingtalk", "feishu"):
        good = await notify.run(action(webhook=signed[fmt], format=fmt, sign_secret="sign"), context(rb), sink)
        assert good.status == "ok", good.detail
        unsigned = await notify.run(action(webhook=signed[fmt], format=fmt), context(rb), sink)
        assert unsigned.status == "failed"
        assert ("310000: sign not match" if fmt == "dingtalk" else "19021: sign match fail") in unsigned.detail
        wrong = context(rb, sign=Value("not-the-secret", secret=True))
        bad = await notify.run(action(webhook=signed[fmt], format=fmt, sign_secret="sign"), wrong, sink)
        assert bad.status == "failed"
    assert SIGN_SECRET not in json.dumps(chat.received)


def test_sign_secret_only_where_a_platform_signs() -> None:
    loaded = load_text(
        HEAD + '[plans.A]\ntitle = "p"\n[[plans.A.steps]]\nid = "t"\nkind = "notify"\nmessage = "x"\n'
        'webhook = "https://example.invalid/x"\nformat = "slack"\nsign_secret = "sign"\n'
        '[[plans.A.steps]]\nid = "u"\nkind = "notify"\nmessage = "x"\nformat = "dingtalk"\nsign_secret = "nosuch"\n'
    )
    text = "\n".join(str(p) for p in loaded.problems)
    assert "'sign_secret' is for format 'dingtalk' or 'feishu'" in text
    assert "secret 'nosuch' is not defined" in text


async def test_webhook_url_never_shown_anywhere(
    chat: ChatLab, tmp_path: Path, rbconsole_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    literal = hooks(chat, f"{GOOD}-literal")["dingtalk"]
    monkeypatch.setenv("RB_HOOK", hooks(chat, f"{GOOD}-insecret")["wecom"])
    monkeypatch.setenv("RB_SIGN_SECRET", SIGN_SECRET)
    monkeypatch.setenv("RB_HOOK_ENV", hooks(chat, f"{GOOD}-inenv")["feishu"])
    rb = runbook()
    body = f"""
[[plans.B.steps]]
id = "ding"
kind = "notify"
template = "start"
format = "dingtalk"
webhook = "{literal}"
[[plans.B.steps]]
id = "wecom"
kind = "notify"
template = "start"
format = "wecom"
webhook = "{{{{ hook }}}}"
[[plans.B.steps]]
id = "feishu"
kind = "notify"
template = "start"
format = "feishu"
webhook_env = "RB_HOOK_ENV"
[[plans.B.steps]]
id = "refused"
kind = "notify"
template = "start"
format = "dingtalk"
webhook = "{hooks(chat, "revoked-xyz-123")["dingtalk"]}"
"""
    path = tmp_path / "rb.toml"
    path.write_text(HEAD + '[plans.B]\ntitle = "b"\n' + body, encoding="utf-8")
    loaded = load_text(path.read_text(), str(path))
    assert loaded.ok and loaded.runbook is not None, loaded.problems
    rb = loaded.runbook
    session = Session.start(rb, str(path), StartOptions(yes=True))
    await session.choose_plan("B")
    await session.run_plan()
    await session.end()
    await session.close()
    statuses = {e.data["id"]: e.data["status"] for e in session.events if e.type == ev.STEP_FINISHED}
    assert statuses == {"ding": "ok", "wecom": "ok", "feishu": "ok", "refused": "failed"}
    assert len(chat.received) == 4
    everything = "\n".join(p.read_text(errors="replace") for p in session.dir.rglob("*") if p.is_file())
    everything += render_markdown(session.events)
    for secret in (f"{GOOD}-literal", f"{GOOD}-insecret", f"{GOOD}-inenv", "revoked-xyz-123", "access_token"):
        assert secret not in everything, secret
    assert f"POST {chat.base}/•••••• as dingtalk" in everything


async def test_webhooks_use_the_same_trust_store_as_checks(
    web_tls: WebLab, notify: NotifyExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An internal CA that the checks trust (SSL_CERT_FILE) is trusted by webhooks too."""
    rb = runbook()
    hook = action(message="x", template=None, webhook=web_tls.url("/webhook/T"), format="json")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    refused = await notify.run(hook, context(rb), sink)
    assert refused.status == "failed" and "TLS certificate not trusted" in refused.detail
    await notify.close()  # a new client reads the trust store again
    monkeypatch.setenv("SSL_CERT_FILE", str(web_tls.cafile))
    check = HttpExecutor()
    try:
        probe = await check.run(HttpAction(id="h", kind="http", url=web_tls.url("/health")), context(rb), sink)
    finally:
        await check.close()
    sent = await notify.run(hook, context(rb), sink)
    assert probe.status == "ok" and sent.status == "ok", (probe.detail, sent.detail)


async def test_no_webhook_is_a_manual_sent_question_in_the_console(tmp_path: Path, rbconsole_home: Path) -> None:
    path = tmp_path / "rb.toml"
    path.write_text(
        HEAD.replace('[secrets.sign]\nenv = "RB_SIGN_SECRET"\n[secrets.hook]\nenv = "RB_HOOK"\n', "")
        + '[plans.A]\ntitle = "p"\n'
        + "".join(f'[[plans.A.steps]]\nid = "{i}"\nkind = "notify"\ntemplate = "start"\n' for i in ("one", "two")),
        encoding="utf-8",
    )
    loaded = load_text(path.read_text(), str(path))
    assert loaded.ok and loaded.runbook is not None, loaded.problems
    asked: list[Question] = []
    answers = iter(["yes", "no"])

    async def ask(question: Question) -> str:
        asked.append(question)
        return next(answers)

    session = Session.start(loaded.runbook, str(path), StartOptions(operator="ana"), ask=ask)
    await session.choose_plan("A")
    assert await session.run_plan()
    result = await session.end()
    await session.close()
    assert [q.kind for q in asked] == ["notify", "notify"]
    assert asked[0].text == "**shop** 回滚到 v1.2.3"
    finished = {e.data["id"]: e.data for e in session.events if e.type == ev.STEP_FINISHED}
    assert finished["one"]["status"] == "ok" and finished["one"]["detail"] == "sent by ana (no webhook)"
    assert finished["two"]["status"] == "not_sent"
    assert result == "success"  # the rollback is done; the record says what was not sent
    record = render_markdown(session.events)
    assert "| 📣 printed, not sent: no webhook: the text above is for the operator to send |" in record
    assert "Notifications printed, not sent (no webhook; nobody confirmed sending them): two" in record


def test_headless_yes_prints_and_records_not_sent(tmp_path: Path, rbconsole_home: Path) -> None:
    path = tmp_path / "rb.toml"
    path.write_text(
        HEAD.replace('[secrets.sign]\nenv = "RB_SIGN_SECRET"\n[secrets.hook]\nenv = "RB_HOOK"\n', "")
        + '[plans.A]\ntitle = "p"\n[[plans.A.steps]]\nid = "tell"\nkind = "notify"\ntemplate = "start"\n'
        + '[[plans.A.steps]]\nid = "after"\nkind = "local"\nrun = "echo after"\n',
        encoding="utf-8",
    )
    record = tmp_path / "record.md"
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(path), "--plan", "A", "--yes", "--record", str(record)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "! tell printed, not sent: no webhook: the text above is for the operator to send" in done.stdout
    assert "**shop** 回滚到 v1.2.3" in done.stdout  # the text the operator has to send
    assert "✓ after ok" in done.stdout  # the plan goes on
    assert "== printed, NOT sent (send them yourself): tell" in done.stdout
    text = record.read_text(encoding="utf-8")
    assert "| 📣 printed, not sent: no webhook: the text above is for the operator to send |" in text
    assert "Notifications printed, not sent (no webhook; nobody confirmed sending them): tell" in text


def test_a_signing_secret_and_a_monitors_token_count_as_used() -> None:
    """Only the secrets a plan uses are read: one named by sign_secret (not a placeholder) and one
    a live monitor sends are used all the same."""
    from tui.runbook.uses import secrets_needed

    text = (
        HEAD
        + '[secrets.prom]\nenv = "RB_PROM"\n'
        + '[[monitors]]\nid = "m"\nkind = "prometheus"\nurl = "http://p.invalid:9090"\n'
        + 'query = \'up{token="{{ prom }}"}\'\ncondition = "> 0"\n'
        + '[plans.A]\ntitle = "p"\n[[plans.A.steps]]\nid = "t"\nkind = "notify"\nmessage = "x"\n'
        + 'format = "dingtalk"\nwebhook = "{{ hook }}"\nsign_secret = "sign"\n'
        + '[plans.B]\ntitle = "q"\n[[plans.B.steps]]\nid = "u"\nkind = "manual"\n'
    )
    loaded = load_text(text)
    assert loaded.runbook is not None, loaded.problems
    assert secrets_needed(loaded.runbook, plan="A", scenario=None, profile=None) == {"sign", "hook", "prom"}
    assert secrets_needed(loaded.runbook, plan="B", scenario=None, profile=None) == {"prom"}
