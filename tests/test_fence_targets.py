"""The fence covers every place a target comes from: live monitors, git repositories, targets
written in a command's text, a check's own DSN; a profile can take each over, and a target
that comes from a secret shows only the secret's name."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tui.drill.report import render_report
from tui.drill.summary import summarise
from tui.engine import events as ev
from tui.engine.fence import Refused
from tui.engine.literal_targets import CURRENT_CONTEXT, find
from tui.engine.session import Session, StartOptions
from tui.runbook.loader import load_or_raise

# (command, local, [(kind, value), ...]): what a fenced run must list, and what it must not.
COMMANDS: list[tuple[str, bool, list[tuple[str, str]]]] = [
    ("curl -fsS https://cdn.prod.example.com/purge?all=1", True, [("URL", "https://cdn.prod.example.com")]),
    ("curl https://user:s3cr3t@api.prod.example.com:8443/x", True, [("URL", "https://api.prod.example.com:8443")]),
    ("psql -h db2.prod.internal -c 'select 1'", True, [("database host", "db2.prod.internal")]),
    ("pg_dump --host=db3.prod.internal app", True, [("database host", "db3.prod.internal")]),
    ('psql "host=db4.prod dbname=app"', True, [("database host", "db4.prod")]),
    ("timeout 5 redis-cli -hredis.prod ping", True, [("database host", "redis.prod")]),
    ("ssh -p 22 -i key deploy@prod-db-1 uptime", True, [("ssh host", "prod-db-1")]),
    ("sudo -u deploy scp a.tgz web1.prod:/tmp/", True, [("ssh host", "web1.prod")]),
    ("kubectl --context prod-eu delete pod x", True, [("kube context", "prod-eu")]),
    ("kubectl --context=prod-us get pods", True, [("kube context", "prod-us")]),
    ("helm --kube-context prod upgrade x", True, [("kube context", "prod")]),
    ("kubectl get pods", True, [("kube context", CURRENT_CONTEXT)]),
    ("cd /tmp && mysql -h mysql.prod -e 'select 1' | wc -l", True, [("database host", "mysql.prod")]),
    # Not targets: loopback, values from placeholders or the environment, a tool named as a word.
    ("curl http://127.0.0.1:8080/health && curl http://localhost/x && redis-cli -h ::1 ping", True, []),
    ("curl {{ api }}/flags http://{{ host }}:80/x", True, []),
    ("ssh {{ target }} uptime; psql -h {{ db_host }}; kubectl --context {{ kube_context }} get pods", True, []),
    ('psql "$DATABASE_URL" -c "select 1"; ssh "$HOST" true', True, []),
    ("grep ssh /etc/services; echo psql -h; cat file:///etc/hosts", True, []),
    ("KUBECONFIG={{ kubeconfig }} kubectl get pods", True, []),
    ("kubectl get pods", False, []),  # on a host: that host's own context
]


@pytest.mark.parametrize(("command", "local", "expected"), COMMANDS)
def test_literal_targets_in_command_text(command: str, local: bool, expected: list[tuple[str, str]]) -> None:
    found = [(t.kind, t.value) for t in find(command, local=local)]
    assert found == expected
    for target in find(command, local=local):
        # the offset points at what is written (the line a refusal names is computed from it)
        written = "kubectl" if target.value == CURRENT_CONTEXT else target.value.split("://")[-1].split(":")[0]
        assert written in command[target.index : target.index + len(written) + 20]
        assert "s3cr3t" not in target.value


RUNBOOK = """schema = 1
id = "fence3"
title = "every place a target comes from"
service = "svc"

[vars]
prometheus = "http://prometheus.prod.internal:9090"
repo_dir = "/srv/app"
pg_dsn = "postgresql://app@127.0.0.1:1/prod"

[secrets.hook]
env = "FENCE3_HOOK"
[secrets.ro_dsn]
env = "FENCE3_RO_DSN"

[profiles.staging]
kind = "staging"

[profiles.lab]
kind = "lab"
vars = {{ prometheus = "http://127.0.0.1:9", repo_dir = "/srv/app", pg_dsn = "{dsn}" }}
actions.rows = {{ check_dsn = "{dsn}" }}
secrets.hook = {{ env = "FENCE3_LAB_HOOK" }}
shared = ["cdn", "status", "literal_repo"]

[[monitors]]
id = "errors"
title = "error rate"
kind = "prometheus"
url = "{{{{ prometheus }}}}"
query = "up"
condition = "> 0.05"

[[monitors]]
id = "status"
title = "the public status page's monitor"
kind = "prometheus"
url = "https://prometheus.status.example.com"
query = "up"
condition = "< 1"

[[checks]]
id = "rows"
kind = "sql"
dsn = "{{{{ pg_dsn }}}}"
check_dsn_env = "FENCE3_RO_DSN"
query = "SELECT count(*) FROM marks"
expect_value = 0

[plans.A]
title = "A"
[[plans.A.steps]]
id = "code"
kind = "git"
repo = "{{{{ repo_dir }}}}"
tag = "v1"
[[plans.A.steps]]
id = "literal_repo"
kind = "git"
repo = "/srv/other"
tag = "v1"
[[plans.A.steps]]
id = "cdn"
kind = "local"
run = '''
echo purging
curl -fsS https://cdn.example.com/purge
'''
[[plans.A.steps]]
id = "tell"
kind = "notify"
message = "done"
webhook = "{{{{ hook }}}}"
"""


@pytest.fixture
def runbook_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FENCE3_HOOK", "https://hooks.secret-team.example.com/T0/B0/xyz")
    monkeypatch.setenv("FENCE3_LAB_HOOK", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("FENCE3_RO_DSN", "postgresql://ro@db.prod.internal/prod")
    path = tmp_path / "fence3.toml"
    path.write_text(RUNBOOK.format(dsn="postgresql://lab@127.0.0.1:9/lab"), encoding="utf-8")
    return path


def _line_of(path: Path, text: str, start: int = 0) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line and i > start)


def test_a_fenced_run_lists_monitors_git_repos_literals_and_check_dsns(runbook_file: Path) -> None:
    runbook = load_or_raise(runbook_file)
    with pytest.raises(Refused) as raised:
        Session.start(runbook, str(runbook_file), StartOptions(profile="staging", plan="A"))
    f = str(runbook_file)
    errors_url = _line_of(runbook_file, "{{ prometheus }}")
    repo = _line_of(runbook_file, "{{ repo_dir }}", _line_of(runbook_file, 'id = "code"'))
    curl = _line_of(runbook_file, "curl -fsS https://cdn.example.com")
    other = _line_of(runbook_file, 'repo = "/srv/other"')
    by_line = {t.line(): t for t in raised.value.targets}
    expected = {
        f"{f}:{errors_url}: monitor errors: URL http://prometheus.prod.internal:9090 from var prometheus",
        f"{f}:{_line_of(runbook_file, 'prometheus.status.example.com')}: monitor status: URL "
        "https://prometheus.status.example.com from written in the runbook",
        f"{f}:{_line_of(runbook_file, 'check_dsn_env')}: pre-check rows: check DSN $FENCE3_RO_DSN from $FENCE3_RO_DSN",
        f"{f}:{repo}: plan A step code: git repo /srv/app from var repo_dir",
        f"{f}:{other}: plan A step literal_repo: git repo /srv/other from written in the runbook",
        # the line the URL is written on inside the multi-line command, not the line of `run =`
        f"{f}:{curl}: plan A step cdn: URL https://cdn.example.com from written in the command",
        f"{f}:{_line_of(runbook_file, 'webhook = ')}: plan A step tell: webhook <secret hook> from {{{{ hook }}}}",
    }
    assert set(by_line) == expected, sorted(by_line)
    assert "secret-team" not in str(raised.value)  # a webhook from a secret: not even its host
    fixes = {t.action: t.fix for t in raised.value.targets}
    assert fixes["plan A step cdn"] == "write {{ api }} for it and set api in [profiles.staging] vars"
    assert fixes["monitor errors"] == "set prometheus in [profiles.staging] vars (or --var prometheus=...)"
    assert "actions.rows = { check_dsn_env = ... }" in fixes["pre-check rows"]
    assert "[profiles.staging] secrets.hook" in fixes["plan A step tell"]
    # one line per target, each with its fix
    assert len(str(raised.value).splitlines()) == 1 + len(expected)
    assert all("; fix: " in line for line in str(raised.value).splitlines()[1:])


def test_the_lab_profile_takes_every_target_over_and_the_report_names_the_shared_ones(runbook_file: Path) -> None:
    runbook = load_or_raise(runbook_file)
    session = Session.start(runbook, str(runbook_file), StartOptions(profile="lab", mode="drill", plan="A"))

    async def choose() -> None:
        await session.choose_plan("A")
        await session.close()

    asyncio.run(choose())
    assert (
        session.events[0].data["targets"] == next(e for e in session.events if e.type == ev.PLAN_CHOSEN).data["targets"]
    )
    targets = session.events[0].data["targets"]
    assert targets["production"] == []
    shared = sorted(line.split(": ", 1)[1] for line in targets["shared"])
    assert shared == [
        "monitor status: URL https://prometheus.status.example.com from written in the runbook",
        "plan A step cdn: URL https://cdn.example.com from written in the command",
        "plan A step literal_repo: git repo /srv/other from written in the runbook",
    ]
    # errors, rows (the profile's check_dsn), tell (the secret moved), and code: a repo path is
    # the profile's statement of where the repo is on this machine, the production path or not
    assert targets["fenced"] == 4
    report = render_report(summarise(session.events))
    assert "3 shared with production on purpose" in report
    assert "prometheus.status.example.com" in report and "cdn.example.com" in report


def test_a_profile_overrides_a_checks_own_dsn_and_the_check_reads_through_it(tmp_path: Path, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE marks (plan text)")
    path = tmp_path / "checkdsn.toml"
    path.write_text(RUNBOOK.format(dsn=pg_dsn), encoding="utf-8")
    env = dict(os.environ, FENCE3_RO_DSN="postgresql://ro@127.0.0.1:1/nowhere", FENCE3_LAB_HOOK="http://127.0.0.1:9/h")
    env["FENCE3_HOOK"] = "https://hooks.example.com/x"
    runbook = load_or_raise(path)
    rows = runbook.checks[0]
    assert (rows.check_dsn, rows.check_dsn_env) == (None, "FENCE3_RO_DSN")  # type: ignore[union-attr]
    done = subprocess.run(
        [sys.executable, "-c", _CHECK_ONLY, str(path)],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    # Under the profile the check connects with the profile's check_dsn (the lab database), not
    # $FENCE3_RO_DSN (nothing listens on port 1): it passes.
    assert done.stdout.strip() == "ok", done.stdout + done.stderr


_CHECK_ONLY = """
import asyncio, sys
from tui.engine.session import Session, StartOptions
from tui.runbook.loader import load_or_raise
path = sys.argv[1]
async def go():
    session = Session.start(load_or_raise(path), path, StartOptions(profile="lab", mode="drill", plan="A"))
    try:
        [result] = await session.run_checks(["rows"])
        print(result.status, result.detail if result.status != "ok" else "")
    finally:
        await session.close()
asyncio.run(go())
"""


def test_headless_refusal_is_one_line_per_target_on_stderr_and_exit_2(runbook_file: Path, rbconsole_home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(runbook_file), "--plan", "A", "--profile", "staging"],
        capture_output=True, text=True, timeout=60, env=dict(os.environ), stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"rbconsole: {runbook_file}: profile 'staging' is fenced in, but 7 target(s)")
    assert len(lines) == 8 and all(line.startswith(f"  {runbook_file}:") and "; fix: " in line for line in lines[1:])
    assert "Traceback" not in done.stderr
    assert not (rbconsole_home / "sessions").exists() or not any((rbconsole_home / "sessions").iterdir())


def test_scp_through_the_sessions_ssh_config_is_fenced_by_the_profiles_config(tmp_path: Path) -> None:
    text = """schema = 1
id = "scp"
title = "scp"
service = "svc"
[profiles.lab]
kind = "lab"
ssh = { config = "%s" }
[profiles.bare]
kind = "lab"
[plans.A]
title = "A"
[[plans.A.steps]]
id = "copy"
kind = "local"
run = 'scp -F "$RBCONSOLE_SSH_CONFIG" -o BatchMode=yes web1:/tmp/a /tmp/b'
""" % (tmp_path / "lab_ssh_config")
    path = tmp_path / "scp.toml"
    path.write_text(text, encoding="utf-8")
    runbook = load_or_raise(path)
    session = Session.start(runbook, str(path), StartOptions(profile="lab", plan="A"))
    asyncio.run(session.close())
    assert session.events[0].data["targets"]["fenced"] == 1
    with pytest.raises(Refused) as raised:
        Session.start(runbook, str(path), StartOptions(profile="bare", plan="A"))
    [target] = raised.value.targets
    assert (target.kind, target.source) == ("ssh host", "the session's ssh_config")
    assert target.fix == "set [profiles.bare.ssh] config (or --ssh-config)"
    assert [e for e in session.events if e.type == ev.SESSION_STARTED]
