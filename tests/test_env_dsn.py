"""A ``dsn`` that is exactly one placeholder takes the value as a whole DSN (URI or key=value),
from ``--var``, a profile or a secret; run headless against the lab PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.lab.postgres import PgLab

RUNBOOK = """schema = 1
id = "dsnt"
title = "dsn test"
service = "svc"

[vars]
pg_dsn = "postgresql://nobody@127.0.0.1:1/prod"

[secrets.db_url]
env = "DSNT_DB_URL"

[profiles.lab.vars]
pg_dsn = "{lab_dsn}"

[plans.A]
title = "write a row"
[[plans.A.steps]]
id = "mark"
kind = "sql"
dsn = "{{{{ pg_dsn }}}}"
query = "INSERT INTO marks VALUES ('A')"
expect_rows = 1
[[plans.A.verify]]
id = "count"
kind = "sql"
dsn = "{{{{ pg_dsn }}}}"
query = "SELECT count(*) FROM marks"
expect_value = ">= 1"

[plans.S]
title = "the DSN is a secret"
[[plans.S.steps]]
id = "mark"
kind = "sql"
dsn = "{{{{ db_url }}}}"
query = "INSERT INTO marks VALUES ('S')"
"""


def _db(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE marks (plan text)")


def _marks(pg_dsn: str) -> list[str]:
    with psycopg.connect(pg_dsn) as conn:
        return [row[0] for row in conn.execute("SELECT plan FROM marks ORDER BY plan")]


def _rb(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_whole_dsn_from_var_profile_and_secret(tmp_path: Path, pg: PgLab, pg_dsn: str) -> None:
    _db(pg_dsn)
    dbname = pg_dsn.rsplit("/", 1)[1].split("?")[0]
    keyword = f"host={pg.host} port={pg.port} user={pg.user} password={pg.password} dbname={dbname}"
    path = tmp_path / "dsn.toml"
    path.write_text(RUNBOOK.format(lab_dsn=pg_dsn), encoding="utf-8")
    runs = [
        _rb("run", str(path), "--plan", "A", "--yes", "--var", f"pg_dsn={pg_dsn}"),  # a URI from --var
        _rb("run", str(path), "--plan", "A", "--yes", "--var", f"pg_dsn={keyword}"),  # key=value from --var
        _rb("run", str(path), "--plan", "A", "--yes", "--profile", "lab"),  # from the profile
        _rb("run", str(path), "--plan", "S", "--yes", env={"DSNT_DB_URL": keyword}),  # from a secret
    ]
    for done in runs:
        assert done.returncode == 0, done.stdout + done.stderr
        assert pg.password not in done.stdout + done.stderr
        assert f"{pg.host}:{pg.port}/{dbname}" in done.stdout
    assert _marks(pg_dsn) == ["A", "A", "A", "S"]


def test_default_dsn_is_used_and_an_empty_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dsn.toml"
    path.write_text(RUNBOOK.format(lab_dsn=""), encoding="utf-8")
    done = _rb("run", str(path), "--plan", "A", "--yes")
    assert done.returncode == 1
    assert "127.0.0.1:1/prod" in done.stdout + done.stderr  # the runbook's own default, not parsed away
    done = _rb("run", str(path), "--plan", "A", "--yes", "--profile", "lab")
    assert done.returncode == 1
    assert "{{ pg_dsn }} (the DSN) is empty" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
