"""Who and what: an HTTP step's Where is its URL and its Exit the HTTP status it got; a SQL
step's Where is host:port/db as libpq resolved it (here from PG* variables), not a guess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.lab.postgres import PgLab
from tests.lab.web import WebLab

RUNBOOK = """schema = 1
id = "where"
title = "where it acted"
service = "api"

[plans.A]
title = "probe"

[[plans.A.steps]]
id = "health"
title = "Health"
kind = "http"
url = "{{ api }}/health?who={{ who }}"
expect_status = 200

[[plans.A.steps]]
id = "broken"
title = "Broken"
kind = "http"
url = "{{ api }}/status/503"
expect_status = 200
on_failure = "continue"

[[plans.A.steps]]
id = "count"
title = "Count"
kind = "sql"
dsn_env = "WHERE_DSN"
query = "SELECT 1"
read_only = true

[params.api]
prompt = "API"
required = true

[params.who]
prompt = "who"
default = "ana"
"""


def test_the_record_says_where_each_step_acted(web: WebLab, pg: PgLab, tmp_path: Path, rbconsole_home: Path) -> None:
    runbook = tmp_path / "where.toml"
    runbook.write_text(RUNBOOK, encoding="utf-8")
    env = {
        **os.environ,
        "WHERE_DSN": "dbname=postgres connect_timeout=10",  # host, port and user come from PG* below
        "PGHOST": pg.host,
        "PGPORT": str(pg.port),
        "PGUSER": pg.user,
        "PGPASSWORD": pg.password,
    }
    record = tmp_path / "r.md"
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(runbook), "--plan", "A", "--var", f"api={web.base}",
         "--record", str(record)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # the 503 step failed (and the plan went on)
    rows = [line for line in record.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    health = next(r.split(" | ") for r in rows if "health Health" in r)
    broken = next(r.split(" | ") for r in rows if "broken Broken" in r)
    count = next(r.split(" | ") for r in rows if "count Count" in r)
    assert health[2] == f"{web.base}/health?who=ana" and health[5] == "200"
    assert broken[2] == f"{web.base}/status/503" and broken[5] == "503"
    assert count[2] == f"{pg.host}:{pg.port}/postgres" and "localhost" not in count[2]
    assert pg.password not in record.read_text(encoding="utf-8")
    session = sorted((rbconsole_home / "sessions").iterdir())[-1].name
    data = json.loads(
        subprocess.run(
            [sys.executable, "-m", "tui", "export", session, "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        ).stdout
    )
    steps = {s["id"]: s for s in data["steps"]}
    assert (steps["broken"]["where"], steps["broken"]["exit_status"]) == (f"{web.base}/status/503", 503)
    assert steps["count"]["where"] == f"{pg.host}:{pg.port}/postgres"
