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
from tests.lab.sshd import SshLab
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


def test_our_checkout_document_imported_and_plan_a_run_for_real(
    ssh_lab: SshLab, web: WebLab, pg_dsn: str, rbconsole_home: Path, tmp_path: Path
) -> None:
    """The rollback page written for this project (tests/data/import/ours-checkout_rollback.md):
    imported from standard input, then plan A run with ``--var`` pointing its vars at the lab — the
    here-document on the lab sshd, the POST with its version in the path and the secret header on
    the lab HTTP server, the version and build id as bind parameters on the lab PostgreSQL."""
    document = Path(__file__).resolve().parent / "data" / "import" / "ours-checkout_rollback.md"
    made = subprocess.run(
        [sys.executable, "-m", "tui", "import", "-", "-o", "-"],
        input=document.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert made.stderr.startswith("<stdin>: 12 command(s): 12 runnable, 0 manual")
    runbook_path = tmp_path / "checkout.toml"
    runbook_path.write_text(made.stdout, encoding="utf-8")
    runbook = tomllib.loads(made.stdout)
    assert runbook["vars"]["build_id"] == "20260222_101500" and runbook["target_version"] == "1.4.1"

    root = tmp_path / "checkout"
    (root / "releases" / "1.4.1").mkdir(parents=True)
    (root / "releases" / "1.4.2").mkdir(parents=True)
    (root / "releases" / "1.4.1" / "VERSION").write_text("1.4.1\n")
    (root / "builds").mkdir()
    (root / "builds" / "20260222_101500.sha256").write_text("abc  20260222_101500.dump\n")
    (root / "current").symlink_to(root / "releases" / "1.4.2")
    config = tmp_path / "ssh_config"  # the document's host `app1` is the lab's alpha
    config.write_text(
        f"Host app1\n  HostName 127.0.0.1\n  Port {ssh_lab.servers['alpha'].port}\n\n" + ssh_lab.config.read_text()
    )
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE releases (version text, live boolean)")
        conn.execute("INSERT INTO releases VALUES ('1.4.1', false), ('1.4.2', true)")
        conn.execute("CREATE TABLE rollbacks (version text, build text)")
    web.reset()

    def run(*more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable, "-m", "tui", "run", str(runbook_path), "--plan", "A", "--yes", "--reason", "lab",
                "--ssh-config", str(config), "--known-hosts", str(ssh_lab.known_hosts),
                "--var", f"checkout_dir={root}", "--var", f"builds_dir={root / 'builds'}",
                "--var", f"checkout={web.url('/echo')}", *more,
            ],
            capture_output=True,
            text=True,
            timeout=240,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "DATABASE_URL": pg_dsn, "ADMIN_KEY": "lab-admin-key"},
        )  # fmt: skip

    done = run()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "== result: SUCCESS" in done.stdout
    assert (root / "current").resolve() == root / "releases" / "1.4.1", "the here-document ran on the host"
    (activate,) = web.received("/echo/admin/releases/")
    assert (activate.method, activate.path) == ("POST", "/echo/admin/releases/1.4.1/activate")
    assert activate.headers.get("x-admin-key") == "lab-admin-key"
    assert "lab-admin-key" not in done.stdout, "the secret is never shown"
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT version, live FROM releases ORDER BY version").fetchall() == [
            ("1.4.1", True),
            ("1.4.2", False),
        ], "the stated versions, bound as parameters, matched the rows the document names"
        assert conn.execute("SELECT version, build FROM rollbacks").fetchall() == [("1.4.1", "20260222_101500")]

    # an operator's build id that is SQL arrives as a value (a bind parameter), never as SQL
    nasty = "x'); DROP TABLE releases; --"
    again = run("--var", f"build_id={nasty}")
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM releases").fetchone() == (2,), again.stdout[-2000:]
        assert conn.execute("SELECT build FROM rollbacks ORDER BY build").fetchall() == [
            ("20260222_101500",),
            (nasty,),
        ]
