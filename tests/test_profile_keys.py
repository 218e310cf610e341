"""Every key a profile can override is in the README's table, and each does what it says."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tui.engine.session import Session, StartOptions
from tui.runbook.loader import load_or_raise
from tui.runbook.model import ActionOverride, Profile

README = Path(__file__).parent.parent / "README.md"


def _profile_table() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### Profiles: where the runbook acts")
    return text[start : text.index("`--var` beats the profile", start)]


def test_every_profile_key_is_documented() -> None:
    table = _profile_table()
    for key in Profile.model_fields:
        if key in ("title", "description"):
            continue  # words for the incident form, not a place the runbook acts
        assert re.search(rf"`[^`]*\b{key}\b[^`]*`", table), f"profile key {key!r} is not in the README table"
    for key in ActionOverride.model_fields:
        assert f"`{key}`" in table, f"actions.ID key {key!r} is not in the README table"


RUNBOOK = """schema = 1
id = "keys"
title = "profile keys"
service = "svc"

[vars]
api = "http://prod.internal"

[secrets.token]
env = "KEYS_TOKEN"

[hosts.app1]
address = "app1.prod.internal"
[hosts.app2]
address = "app2.prod.internal"
[groups]
app = ["app1", "app2"]

[ssh]
config = "/etc/prod_ssh_config"
known_hosts = "/etc/prod_known_hosts"

[profiles.lab]
kind = "lab"
vars = {{ api = "http://127.0.0.1:9" }}
hosts.app1 = {{ address = "127.0.0.1", port = 2222 }}
groups = {{ app = ["app1"] }}
ssh = {{ config = "{tmp}/lab_config", known_hosts = "{tmp}/lab_known_hosts" }}
secrets.token = {{ file = "{tmp}/token" }}
env = {{ KEYS_HOOK = "KEYS_LAB_HOOK" }}
actions.q = {{ dsn_env = "KEYS_LAB_DSN", check_dsn = "postgresql://ro@127.0.0.1:9/lab" }}
actions.v = {{ check_dsn_env = "KEYS_LAB_RO_DSN" }}
actions.tell = {{ webhook_env = "KEYS_LAB_HOOK2" }}
actions.tell2 = {{ webhook = "http://127.0.0.1:9/hook" }}
actions.w = {{ dsn = "postgresql://rw@127.0.0.1:9/lab" }}
shared = ["api"]

[plans.A]
title = "A"
[[plans.A.steps]]
id = "restart"
kind = "ssh"
group = "app"
run = "true"
[[plans.A.steps]]
id = "w"
kind = "sql"
dsn = "postgresql://rw@db.prod.internal/prod"
query = "UPDATE t SET x = 1"
[[plans.A.steps]]
id = "tell"
kind = "notify"
message = "m"
webhook_env = "KEYS_HOOK"
[[plans.A.steps]]
id = "tell2"
kind = "notify"
message = "m"
webhook = "https://hooks.prod.example.com/x"
[[plans.A.verify]]
id = "q"
kind = "sql"
dsn_env = "KEYS_PROD_DSN"
query = "SELECT 1"
[[plans.A.verify]]
id = "v"
kind = "sql"
dsn = "postgresql://app@db.prod.internal/prod"
check_dsn = "postgresql://ro@db.prod.internal/prod"
query = "SELECT 1"
"""


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rbconsole_home: Path) -> Session:
    monkeypatch.delenv("KEYS_TOKEN", raising=False)
    for name in ("KEYS_LAB_DSN", "KEYS_LAB_RO_DSN", "KEYS_LAB_HOOK2", "KEYS_LAB_HOOK", "KEYS_PROD_DSN"):
        monkeypatch.setenv(name, f"postgresql://x@127.0.0.1:9/{name}")
    (tmp_path / "token").write_text("lab-token-0123456789", encoding="utf-8")
    path = tmp_path / "keys.toml"
    path.write_text(RUNBOOK.format(tmp=tmp_path), encoding="utf-8")
    started = Session.start(load_or_raise(path), str(path), StartOptions(profile="lab", mode="drill", plan="A"))
    asyncio.run(started.close())
    return started


def test_each_key_moves_what_it_says(session: Session, tmp_path: Path) -> None:
    runbook, values = session.runbook, session._values
    assert values.scope["api"].text == "http://127.0.0.1:9"  # vars
    assert (values.hosts["app1"].address, values.hosts["app1"].port) == ("127.0.0.1", 2222)  # hosts
    assert runbook.group_hosts("app") == ["app1"]  # groups
    assert values.ssh.config == str(tmp_path / "lab_config")  # ssh
    assert values.ssh.known_hosts == str(tmp_path / "lab_known_hosts")
    assert values.scope["token"].text == "lab-token-0123456789"  # secrets (file instead of env)
    steps = {s.id: s for s in [*runbook.plans["A"].steps, *runbook.plans["A"].verify]}
    assert (steps["w"].dsn, steps["w"].dsn_env) == ("postgresql://rw@127.0.0.1:9/lab", None)  # type: ignore[union-attr]
    q = steps["q"]
    assert (q.dsn, q.dsn_env, q.check_dsn) == (None, "KEYS_LAB_DSN", "postgresql://ro@127.0.0.1:9/lab")  # type: ignore[union-attr]
    v = steps["v"]
    assert (v.check_dsn, v.check_dsn_env) == (None, "KEYS_LAB_RO_DSN")  # type: ignore[union-attr]
    assert v.dsn == "postgresql://app@db.prod.internal/prod"  # type: ignore[union-attr]  # not moved: only its check DSN
    assert (steps["tell"].webhook, steps["tell"].webhook_env) == (None, "KEYS_LAB_HOOK2")  # type: ignore[union-attr]
    assert steps["tell2"].webhook == "http://127.0.0.1:9/hook"  # type: ignore[union-attr]
    targets = session.events[0].data["targets"]  # kind: lab is fenced; nothing is production's
    assert targets["production"] == [] and targets["shared"] == []  # api is shared, but the profile set it
