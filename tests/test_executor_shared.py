"""What the HTTP-speaking executors (http, prometheus, notify) share says the same everywhere:
a header built from a secret is masked whole, and an unchecked TLS certificate is named."""

from __future__ import annotations

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
