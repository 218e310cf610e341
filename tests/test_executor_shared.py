"""What the HTTP-speaking executors (http, prometheus, notify) share says the same everywhere:
a header built from a secret is masked whole, and an unchecked TLS certificate is named."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import TypeAdapter

from tui.engine.redact import Redactor
from tui.executors import executor_class
from tui.executors.base import ExecContext
from tui.runbook.loader import load_text
from tui.runbook.model import SshSettings, Step
from tui.runbook.placeholders import Value

RUNBOOK = 'schema = 1\nid = "r"\ntitle = "t"\nservice = "s"\n[plans.a]\ntitle = "A"\n[[plans.a.steps]]\nid = "x"\nkind = "manual"\n'
TOKEN = "tok-3f9a 'x'"  # a secret with a blank and quotes: masked whole, never in part

STEPS = {
    "http": {"url": "https://127.0.0.1:9/h", "headers": {"Authorization": "Bearer {{ token }}", "X-Env": "lab"}},
    "prometheus": {"url": "https://127.0.0.1:9", "query": "up", "expect": "== 1", "bearer_token": "{{ token }}"},
    "notify": {"message": "rolling back", "webhook": "https://127.0.0.1:9/hook"},
}


@pytest.mark.parametrize("kind", sorted(STEPS))
@pytest.mark.parametrize("verify", [True, False])
def test_describe_masks_secrets_and_names_unchecked_tls(kind: str, verify: bool) -> None:
    loaded = load_text(RUNBOOK, "r.toml")
    assert loaded.runbook is not None
    redact = Redactor()
    redact.add([TOKEN])
    ctx = ExecContext(loaded.runbook, {"token": Value(TOKEN, secret=True)}, {}, SshSettings(), redact=redact)
    action = TypeAdapter(Step).validate_python({"id": "a", "kind": kind, "verify_tls": verify, **STEPS[kind]})
    lines = executor_class(kind)().describe(action, ctx)
    text = "\n".join(lines)
    assert not any(part in text for part in ("tok-3f9a", "3f9a", "Bearer tok")), text
    if kind != "notify":
        assert "  Authorization: ••••••" in lines
    assert ("  TLS certificate NOT verified (verify_tls = false)" in lines) is not verify
    if kind == "http":
        assert "  X-Env: lab" in lines


# Every kind resolved before it sends (tui/executors/base.py ResolvingExecutor): a value that
# cannot be filled in is one redacted description line and an "error" outcome before anything
# starts; a dry run resolves nothing and is skipped. Braces in what the runbook wrote stay as written.
UNRESOLVABLE = {
    "http": (
        {"url": "https://127.0.0.1:9/{0}{{ token }}/{{ nowhere }}"},
        "GET https://127.0.0.1:9/{0}",
        "nothing sent",
    ),
    "prometheus": (
        {"url": "https://127.0.0.1:9/{0}{{ nowhere }}", "query": "up", "expect": "== 1"},
        "prometheus https://127.0.0.1:9/{0}",
        "nothing queried",
    ),
    "git": ({"repo": "/tmp/{0}", "tag": "{{ nowhere }}"}, "git a: cannot resolve: ", "nothing changed"),
    "sql": (
        {"dsn": "host=127.0.0.1 dbname={0}", "query": "select {{ nowhere }}"},
        "sql a: cannot resolve: ",
        "nothing sent",
    ),
}


@pytest.mark.parametrize("kind", sorted(UNRESOLVABLE))
async def test_an_unresolvable_value_is_one_redacted_line_and_an_error_before_anything_starts(kind: str) -> None:
    fields, starts, dry = UNRESOLVABLE[kind]
    loaded = load_text(RUNBOOK, "r.toml")
    assert loaded.runbook is not None
    redact = Redactor()
    redact.add([TOKEN])
    scope = {"token": Value(TOKEN, secret=True)}
    ctx = ExecContext(loaded.runbook, scope, {}, SshSettings(), redact=redact)
    action = TypeAdapter(Step).validate_python({"id": "a", "kind": kind, **fields})
    executor = executor_class(kind)()
    sent: list[str] = []
    try:
        (line,) = executor.describe(action, ctx)
        outcome = await executor.run(action, ctx, lambda host, stream, text: sent.append(text))
        dry_run = await executor.run(action, replace(ctx, dry_run=True), lambda host, stream, text: sent.append(text))
    finally:
        await executor.close()
    assert line.startswith(starts), line
    assert "cannot resolve" in line and "nowhere" in line, line
    assert (outcome.status, sent) == ("error", []), outcome
    assert outcome.detail.startswith("a: ") and "nowhere" in outcome.detail, outcome.detail
    assert (dry_run.status, dry_run.detail) == ("skipped", f"dry run: {dry}")
    assert not any("3f9a" in text for text in (line, outcome.detail)), (line, outcome.detail)
