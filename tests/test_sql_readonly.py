"""A sql pre-check only reads: every writing or escaping statement tried as a check against
the lab PostgreSQL (as its superuser, the worst case) changes nothing; reading checks still
pass; ``check_dsn`` names the role checks use; a client killed mid-query leaves nothing
running on the server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import TypeAdapter

from tests.lab.postgres import PgLab
from tui.executors.base import ExecContext
from tui.executors.sql import SqlExecutor
from tui.executors.sql_guard import ReadOnlyRefused, check_read_only
from tui.runbook.model import Runbook, SshSettings, Step

RUNBOOK = Runbook.model_validate(
    {
        "schema": 1,
        "id": "t",
        "title": "t",
        "service": "svc",
        "plans": {"A": {"title": "A", "steps": [{"id": "m", "kind": "manual"}]}},
    }
)
FILE = f"/tmp/rbconsole-pwned-{uuid.uuid4().hex}"

# Each must be refused (or fail) as a check and change nothing.
WRITING = [
    "COMMIT; UPDATE victims SET id = 0",
    "ROLLBACK; DELETE FROM victims",
    "END; CREATE TABLE pwned (a int)",
    "commit;drop table victims",
    "BEGIN; DELETE FROM victims; COMMIT",
    "ABORT; TRUNCATE victims",
    "SELECT 1; DELETE FROM victims",
    "SELECT 1 /* ; */; DELETE FROM victims",
    "SELECT $$;$$; DELETE FROM victims",
    "SELECT 'a;'; DELETE FROM victims --",
    "select 1;\nDELETE FROM victims",
    f"COPY (SELECT 1) TO PROGRAM 'touch {FILE}'",
    f"COPY victims TO '{FILE}'",
    "COPY victims FROM PROGRAM 'echo 9'",
    "SELECT lo_import('/etc/hostname')",
    f"SELECT lo_export(lo_create(0), '{FILE}')",
    "SELECT pg_catalog.lo_import('/etc/hostname')",
    "SELECT \"lo_import\"('/etc/hostname')",
    "SELECT U&\"lo\\005fimport\"('/etc/hostname')",
    "SELECT lo_create(0)",
    "SELECT pg_terminate_backend(SENTINEL)",
    "SELECT pg_cancel_backend(SENTINEL)",
    "SELECT pg_reload_conf()",
    "SELECT * FROM dblink('dbname=postgres', 'DELETE FROM victims') AS t(a text)",
    "SELECT dblink_exec('dbname=postgres', 'DELETE FROM victims')",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SET default_transaction_read_only = off",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "RESET default_transaction_read_only",
    "WITH d AS (DELETE FROM victims RETURNING *) SELECT count(*) FROM d",
    "SELECT * INTO pwned FROM victims",
    "SELECT query_to_xml('DELETE FROM victims', true, true, '')",
    "DO $$BEGIN DELETE FROM victims; END$$",
    "CALL nothing()",
    "PREPARE x AS DELETE FROM victims",
    "SELECT nextval('counter')",
    "SELECT setval('counter', 99)",
    "SELECT pg_advisory_lock(1)",
    "VACUUM victims",
    "ANALYZE victims",
    "LOCK victims",
    "NOTIFY chan",
    "SELECT pg_notify('chan', 'x')",
    "SELECT * FROM victims FOR UPDATE",
    "EXPLAIN ANALYZE DELETE FROM victims",
    "INSERT INTO victims VALUES (9)",
    "UPDATE victims SET id = 0",
    "DELETE FROM victims",
    "MERGE INTO victims v USING victims w ON false WHEN NOT MATCHED THEN INSERT VALUES (9)",
    "CREATE TABLE pwned (a int)",
    "DROP TABLE victims",
    "ALTER TABLE victims ADD COLUMN b int",
    "GRANT ALL ON victims TO PUBLIC",
    "TRUNCATE victims",
    "SELECT pg_stat_reset()",
    "SELECT pg_read_file('/etc/hostname')",
    "SELECT pg_create_physical_replication_slot('s')",
    "/* hi */ COMMIT",
    "-- x\nROLLBACK",
    "",
    "SELECT 'unterminated",
]
READING = [
    ("SELECT count(*) FROM victims", 3),
    ("select count(*) from victims;", 3),
    ("WITH a AS (SELECT id FROM victims) SELECT count(*) FROM a", 3),
    ("SELECT CASE WHEN true THEN 'update; delete; commit' END", "update; delete; commit"),
    ("SELECT count(*) FROM victims -- DELETE FROM victims", 3),
    ("/* COPY ... TO PROGRAM */ SELECT 1", 1),
    ("SELECT $q$; DROP TABLE victims$q$", "; DROP TABLE victims"),
    ("SHOW default_transaction_read_only", "on"),
    ("VALUES (7)", 7),
    ("SELECT '100%'", "100%"),
]


def step(**fields: Any) -> Step:
    return TypeAdapter(Step).validate_python({"id": "q", "kind": "sql", **fields})


def check_context() -> ExecContext:
    return ExecContext(RUNBOOK, {}, {}, SshSettings(), check_mode=True)


@pytest.fixture
async def sql() -> AsyncIterator[SqlExecutor]:
    executor = SqlExecutor()
    yield executor
    await executor.close()


def _state(conn: psycopg.Connection[Any]) -> tuple[Any, ...]:
    one = lambda query: conn.execute(query).fetchone()  # noqa: E731
    return (
        one("SELECT array_agg(id ORDER BY id) FROM victims"),
        one("SELECT count(*) FROM pg_largeobject_metadata"),
        one("SELECT to_regclass('pwned')"),
        one("SELECT last_value, is_called FROM counter"),
        one("SELECT count(*) FROM pg_replication_slots"),
        one("SELECT count(*) FROM information_schema.columns WHERE table_name = 'victims'"),
    )


async def test_no_writing_or_escaping_statement_passes_as_a_check(pg_dsn: str, sql: SqlExecutor) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn, psycopg.connect(pg_dsn, autocommit=True) as sentinel:
        conn.execute("CREATE TABLE victims (id int)")
        conn.execute("INSERT INTO victims VALUES (1), (2), (3)")
        conn.execute("CREATE SEQUENCE counter")
        sentinel_pid = sentinel.info.backend_pid
        before = _state(conn)
        failures = []
        for query in WRITING:
            query = query.replace("SENTINEL", str(sentinel_pid))
            outcome = await sql.run(step(dsn=pg_dsn, query=query), check_context(), lambda *_: None)
            if outcome.status == "ok":
                failures.append(f"{query!r}: ok")
            if _state(conn) != before:
                failures.append(f"{query!r}: changed {_state(conn)} (was {before})")
            if Path(FILE).exists():
                failures.append(f"{query!r}: wrote {FILE}")
                Path(FILE).unlink()
        assert sentinel.execute("SELECT 1").fetchone() == (1,)  # neither terminated nor cancelled
        print(f"\nread-only checks: {len(WRITING)} writing or escaping statements tried, {len(failures)} effects")
        assert not failures, "\n".join(failures)
        for query, value in READING:
            outcome = await sql.run(step(dsn=pg_dsn, query=query, expect_value=value), check_context(), lambda *_: None)
            assert outcome.status == "ok", (query, outcome.detail)
        assert _state(conn) == before


async def test_a_refused_check_says_why(pg_dsn: str, sql: SqlExecutor) -> None:
    outcome = await sql.run(step(dsn=pg_dsn, query="COMMIT; DELETE FROM t"), check_context(), lambda *_: None)
    assert outcome.status == "error"
    assert (
        outcome.detail
        == "q: refused: a read-only check must start with SELECT, WITH, VALUES, TABLE, SHOW or EXPLAIN, not COMMIT"
    )
    for query, reason in {
        "SELECT 1; DELETE FROM t": "is one statement",
        "SELECT lo_import('/etc/passwd')": "lo_import() is not allowed",
        "WITH d AS (DELETE FROM t RETURNING 1) SELECT 1": "DELETE is not allowed",
    }.items():
        with pytest.raises(ReadOnlyRefused, match=re.escape(reason)):
            check_read_only(query)


async def test_a_second_statement_is_refused_by_the_server_too(
    pg_dsn: str, sql: SqlExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard is not the only wall: without it, the extended protocol takes one statement
    and the session is read-only."""
    monkeypatch.setattr("tui.executors.sql.check_read_only", lambda query: None)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE victims (id int)")
        for query in ("SELECT 1; DELETE FROM victims", "COMMIT; INSERT INTO victims VALUES (1)"):
            outcome = await sql.run(step(dsn=pg_dsn, query=query), check_context(), lambda *_: None)
            assert outcome.status == "failed" and "multiple commands" in outcome.detail, outcome.detail
        outcome = await sql.run(
            step(dsn=pg_dsn, query="SET default_transaction_read_only = off"), check_context(), lambda *_: None
        )
        outcome = await sql.run(
            step(dsn=pg_dsn, query="INSERT INTO victims VALUES (1)"), check_context(), lambda *_: None
        )
        assert outcome.status == "failed" and "read-only transaction" in outcome.detail
        assert conn.execute("SELECT count(*) FROM victims").fetchone() == (0,)


async def test_steps_keep_several_statements_in_one_transaction(pg_dsn: str, sql: SqlExecutor) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int)")
        query = "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); SELECT count(*) FROM t"
        outcome = await sql.run(
            step(dsn=pg_dsn, query=query, expect_value=2), ExecContext(RUNBOOK, {}, {}, SshSettings()), lambda *_: None
        )
        assert outcome.status == "ok", outcome.detail
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (2,)


async def test_checks_use_check_dsn(pg: PgLab, pg_dsn: str, sql: SqlExecutor, monkeypatch: pytest.MonkeyPatch) -> None:
    role = "ro_" + uuid.uuid4().hex[:8]
    dbname = pg_dsn.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'ro-pass'")
        conn.execute(f'GRANT CONNECT ON DATABASE "{dbname}" TO {role}')
    ro_dsn = f"postgresql://{role}:ro-pass@{pg.host}:{pg.port}/{dbname}"
    monkeypatch.setenv("RB_TEST_RO_DSN", ro_dsn)
    for fields in ({"check_dsn": ro_dsn}, {"check_dsn_env": "RB_TEST_RO_DSN"}):
        action = step(dsn=pg_dsn, query="SELECT current_user", **fields, capture={"who": "json:value"})
        as_check = await sql.run(action, check_context(), lambda *_: None)
        as_step = await sql.run(action, ExecContext(RUNBOOK, {}, {}, SshSettings()), lambda *_: None)
        assert as_check.captured == {"who": role}, as_check.detail
        assert as_step.captured == {"who": pg.user}, as_step.detail
    with pytest.raises(ValueError, match="at most one of 'check_dsn' or 'check_dsn_env'"):
        step(dsn=pg_dsn, query="SELECT 1", check_dsn=ro_dsn, check_dsn_env="X")


def test_a_killed_client_leaves_no_statement_running(pg_dsn: str, tmp_path: Path) -> None:
    """kill -9 of rbconsole mid-query: the server ends the statement soon after (the client
    check interval), not at the statement timeout."""
    marker = f"rbconsole-kill-{uuid.uuid4().hex[:8]}"
    runbook = tmp_path / "slow.toml"
    runbook.write_text(
        f"""schema = 1
id = "slow"
title = "A slow query"
service = "db"

[plans.A]
title = "Wait on the database"

[[plans.A.steps]]
id = "sleep"
title = "Sleep in the database"
kind = "sql"
dsn_env = "RB_SLOW_DSN"
read_only = false
timeout = 600
query = "SELECT pg_sleep(600), '{marker}'"
"""
    )
    env = {**os.environ, "RB_SLOW_DSN": pg_dsn, "RBCONSOLE_HOME": str(tmp_path / "home")}
    running = "SELECT pid FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()"
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "run", str(runbook), "--plan", "A", "--yes", "--reason", "kill test"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while not conn.execute(running, [f"%{marker}%"]).fetchall():
                assert time.monotonic() < deadline, "the query never started"
                assert process.poll() is None, "rbconsole ended before the query started"
                time.sleep(0.2)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            killed = time.monotonic()
            while conn.execute(running, [f"%{marker}%"]).fetchall():
                assert time.monotonic() - killed < 30, "the statement still runs 30 s after the client died"
                time.sleep(0.2)
            print(f"\nstatement gone {time.monotonic() - killed:.1f} s after kill -9")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
