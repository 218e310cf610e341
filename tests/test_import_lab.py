"""An imported runbook run for real against the lab: a Markdown rollback plan written for this test,
imported, then ``rbconsole run --yes`` with its SQL on the lab PostgreSQL, a value captured by one
step and used by the next, a git checkout in the lab repository and a verification query; what
happened is checked at the source."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import psycopg
import pytest

from tests.lab.gitrepo import GitLab
from tests.lab.web import WebLab

pytestmark = pytest.mark.lab

DOCUMENT = """\
# Orders rollback

Target version: v1.0.0

## Option A: restore the previous build

```bash
# find the newest build
LAST=$(ls -t {builds} | head -1)

# put it back
cp {builds}/$LAST {live}/current.txt
```

```bash
cd {repo}
git checkout v1.0.0
```

```sql
-- record the rollback
CREATE TABLE rollbacks (build text);
INSERT INTO rollbacks VALUES ('restored');
```

## Verification

```sql
-- the rollback is recorded
SELECT count(*) FROM rollbacks;
```
"""


def test_an_imported_plan_runs_for_real(git_repo: GitLab, pg_dsn: str, rbconsole_home: Path, tmp_path: Path) -> None:
    builds, live = tmp_path / "builds", tmp_path / "live"
    builds.mkdir()
    live.mkdir()
    (builds / "build-1").write_text("one\n")
    (builds / "build-2").write_text("two\n")
    os.utime(builds / "build-1", (1, 1))  # build-2 is the newest
    source = tmp_path / "orders.md"
    source.write_text(DOCUMENT.format(builds=builds, live=live, repo=git_repo.path), encoding="utf-8")
    out = tmp_path / "orders.toml"
    made = subprocess.run(
        [sys.executable, "-m", "tui", "import", str(source), "-o", str(out)], capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    assert made.stderr.startswith("orders.md: 7 command(s): 7 runnable, 0 manual")
    plan = tomllib.loads(out.read_text(encoding="utf-8"))["plans"]["A"]
    assert [s["kind"] for s in plan["steps"]] == ["local", "local", "git", "sql", "sql"]
    assert [v["kind"] for v in plan["verify"]] == ["sql"]

    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(out), "--plan", "A", "--yes", "--reason", "lab"],
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "DATABASE_URL": pg_dsn},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "== result: SUCCESS" in done.stdout
    assert (live / "current.txt").read_text() == "two\n", "the captured name reached the next step"
    head = subprocess.run(["git", "-C", str(git_repo.path), "describe", "--tags"], capture_output=True, text=True)
    assert head.stdout.strip() == "v1.0.0"
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("select build from rollbacks").fetchall() == [("restored",)]


def test_a_value_read_from_an_api_reaches_the_next_request_for_real(web: WebLab, tmp_path: Path) -> None:
    """``ID=$(curl … | jq -r .data.id)`` imported as an http step with a capture: run against the lab
    HTTP server, the id it answered is in the path and the header of the request after it."""
    source = tmp_path / "api.md"
    source.write_text(
        "# API rollback\n\n## Option A: cancel the run\n\n```bash\n"
        f"# find the run\nRUN_ID=$(curl -s {web.url('/json')} | jq -r .data.id)\n\n"
        f'# cancel it\ncurl -X POST -H "X-Run: $RUN_ID" {web.url("/echo/runs/")}$RUN_ID/cancel\n```\n',
        encoding="utf-8",
    )
    out = tmp_path / "api.toml"
    made = subprocess.run(
        [sys.executable, "-m", "tui", "import", str(source), "-o", str(out)], capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    steps = tomllib.loads(out.read_text(encoding="utf-8"))["plans"]["A"]["steps"]
    assert [(s["kind"], s.get("capture")) for s in steps] == [("http", {"run_id": "json:data.id"}), ("http", None)]
    web.reset()
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(out), "--plan", "A", "--yes", "--reason", "lab"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "RBCONSOLE_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    (cancel,) = web.received("/echo/runs/")
    assert (cancel.method, cancel.path, cancel.headers.get("x-run")) == ("POST", "/echo/runs/exec-42/cancel", "exec-42")
