"""``rbconsole run`` end to end against the lab: two real sshd hosts, PostgreSQL, a git
repository and an HTTP service, then the record checked against what really happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import psycopg.conninfo
import pytest

from tests.lab.gitrepo import GitLab
from tests.lab.sshd import SshLab
from tests.lab.web import WebLab

pytestmark = pytest.mark.lab

RUNBOOK = Path(__file__).parent / "data" / "engine_lab.toml"


def test_run_a_plan_against_the_lab_and_export_its_record(
    ssh_lab: SshLab, web: WebLab, git_repo: GitLab, pg_dsn: str, rbconsole_home: Path, tmp_path: Path
) -> None:
    password = psycopg.conninfo.conninfo_to_dict(pg_dsn)["password"]
    assert password
    record = tmp_path / "record.md"
    marker = tmp_path / "marker"
    # The service's address goes into the runbook itself: an operator's --var is untrusted and
    # would be percent-encoded as one URL component, which is the point of the encoding.
    runbook = tmp_path / "lab.toml"
    runbook.write_text(RUNBOOK.read_text(encoding="utf-8").replace("http://127.0.0.1:1", web.base), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable, "-m", "tui", "run", str(runbook), "--plan", "A", "--yes",
            "--operator", "韩梅梅", "--reason", "v2.0.0 breaks checkout",
            "--ssh-config", str(ssh_lab.config), "--known-hosts", str(ssh_lab.known_hosts),
            "--var", f"repo={git_repo.path}", "--var", f"marker={marker}",
            "--var", "ticket=INC-9'; drop table rollbacks; --",
            "--record", str(record),
        ],
        capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL,
        env={**os.environ, "LAB_DSN": pg_dsn},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    out = done.stdout
    assert "[app1] rolling v1.1.0 for INC-9'; drop table rollbacks; --" in out
    assert "[app2] rolling v1.1.0 for INC-9'; drop table rollbacks; --" in out
    assert "== result: SUCCESS" in out

    # What really happened, checked at the source.
    announce = web.received("/webhook/announce")
    assert json.loads(announce[0].body) == {"text": "rolling back orders-api (INC-9'; drop table rollbacks; --)"}
    head = subprocess.run(["git", "-C", str(git_repo.path), "describe", "--tags"], capture_output=True, text=True)
    assert head.stdout.strip() == "v1.1.0"
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("select ticket from rollbacks").fetchall() == [("INC-9'; drop table rollbacks; --",)]

    text = record.read_text(encoding="utf-8")
    assert "| 回滚人员 · Operator | 韩梅梅 |" in text
    assert "| 版本 · Versions | v2.0.0 → v1.1.0 |" in text
    for check in ("health API answers | ok", "db Database reachable | ok", "tag Target tag exists | ok"):
        assert f"| {check} |" in text
    assert "| 2 | deploy Roll each host back | app1 |" in text and "| 2 | deploy Roll each host back | app2 |" in text
    target = psycopg.conninfo.conninfo_to_dict(pg_dsn)
    where = f"{target['host']}:{target['port']}/{target['dbname']}"  # where libpq connected
    assert f"| 5 | record-db Record the rollback in the database | {where} |" in text
    assert "| version | ok |" in text and "| db-row | ok |" in text
    assert "- [x] API answers (check:health)" in text and "- [x] Database reachable (check:db)" in text
    assert "- [x] ✅ 回滚成功 · success" in text

    (session,) = (rbconsole_home / "sessions").iterdir()
    leaked = subprocess.run(["grep", "-rlF", password, str(session)], capture_output=True, text=True)
    assert leaked.stdout == ""
    assert password not in out + done.stderr + text
