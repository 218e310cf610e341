"""The sql executor against the lab's real PostgreSQL cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from pydantic import TypeAdapter

from tests.lab.postgres import PgLab
from tui.executors.base import ExecContext
from tui.executors.sql import SqlExecutor
from tui.runbook.model import Runbook, SshSettings, Step
from tui.runbook.placeholders import Value

RUNBOOK = Runbook.model_validate(
    {
        "schema": 1,
        "id": "t",
        "title": "t",
        "service": "svc",
        "plans": {"A": {"title": "A", "steps": [{"id": "m", "kind": "manual"}]}},
    }
)


def step(**fields: Any) -> Step:
    return TypeAdapter(Step).validate_python({"id": "q", "kind": "sql", **fields})


def context(*, check: bool = False, dry_run: bool = False, **values: Value) -> ExecContext:
    return ExecContext(RUNBOOK, values, {}, SshSettings(), check_mode=check, dry_run=dry_run)


class Sink:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def __call__(self, host: str, stream: str, text: str) -> None:
        self.parts.append(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


@pytest.fixture
async def sql() -> AsyncIterator[SqlExecutor]:
    executor = SqlExecutor()
    yield executor
    await executor.close()


@pytest.fixture
def orders(pg_dsn: str) -> str:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, status text, amount numeric)")
        conn.execute(
            "INSERT INTO orders SELECT i, CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'ok' END, i * 1.5 FROM generate_series(1, 25) i"
        )
    return pg_dsn


def scalar(dsn: str, query: str) -> Any:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
        return row[0] if row else None


async def test_expect_value_and_rows_with_a_table_in_the_output(sql: SqlExecutor, orders: str) -> None:
    sink = Sink()
    action = step(
        dsn=orders,
        query="SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status",
        expect_rows=2,
        expect_value="failed",
    )
    outcome = await sql.run(action, context(check=True), sink)
    assert outcome.status == "ok", outcome.detail
    assert outcome.summary.startswith("2 rows in ")
    lines = sink.text.splitlines()
    assert lines[1:4] == ["status | n", "-------+---", "failed | 2"]
    assert lines[4] == "ok     | 23"


async def test_comparisons_numeric_and_row_count(sql: SqlExecutor, orders: str) -> None:
    ratio = step(dsn=orders, query="SELECT avg((status = 'failed')::int) FROM orders", expect_value="< 0.1")
    assert (await sql.run(ratio, context(check=True), Sink())).status == "ok"
    too_many = step(dsn=orders, query="SELECT id FROM orders WHERE status = 'failed'", expect_rows="<= 1")
    outcome = await sql.run(too_many, context(check=True), Sink())
    assert outcome.status == "failed"
    assert outcome.detail.endswith("row count 2, expected <= 1")
    sum_step = step(dsn=orders, query="SELECT sum(amount) FROM orders", expect_value=487.5)
    assert (await sql.run(sum_step, context(check=True), Sink())).status == "ok"


async def test_expect_value_with_no_rows(sql: SqlExecutor, orders: str) -> None:
    action = step(dsn=orders, query="SELECT id FROM orders WHERE id < 0", expect_value=1)
    outcome = await sql.run(action, context(check=True), Sink())
    assert outcome.status == "failed"
    assert "no rows (expected a value = 1)" in outcome.detail


async def test_checks_are_read_only(sql: SqlExecutor, orders: str) -> None:
    action = step(dsn=orders, query="DELETE FROM orders")
    outcome = await sql.run(action, context(check=True), Sink())
    assert outcome.status == "error"
    assert "refused: a read-only check must start with SELECT" in outcome.detail
    assert scalar(orders, "SELECT count(*) FROM orders") == 25
    explicit = step(dsn=orders, query="DELETE FROM orders", read_only=True)
    assert (await sql.run(explicit, context(), Sink())).status == "error"
    # Behind the guard, the server's own read-only transaction (a function's write).
    with psycopg.connect(orders, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION wipe() RETURNS int LANGUAGE sql AS 'DELETE FROM orders RETURNING 1'")
    hidden = await sql.run(step(dsn=orders, query="SELECT wipe()"), context(check=True), Sink())
    assert hidden.status == "failed" and "read-only transaction" in hidden.detail and "SQLSTATE 25006" in hidden.detail
    assert scalar(orders, "SELECT count(*) FROM orders") == 25


async def test_step_commits_on_success(sql: SqlExecutor, orders: str) -> None:
    action = step(dsn=orders, query="UPDATE orders SET status = 'ok' WHERE status = 'failed'", expect_rows=2)
    outcome = await sql.run(action, context(), Sink())
    assert outcome.status == "ok", outcome.detail
    assert scalar(orders, "SELECT count(*) FROM orders WHERE status = 'failed'") == 0


async def test_step_rolls_back_on_error_and_on_unmet_expectation(sql: SqlExecutor, orders: str) -> None:
    broken = step(dsn=orders, query="UPDATE orders SET status = 'gone'; SELECT 1/0")
    outcome = await sql.run(broken, context(), Sink())
    assert outcome.status == "failed"
    assert "division by zero (SQLSTATE 22012)" in outcome.detail
    unmet = step(dsn=orders, query="UPDATE orders SET status = 'gone'; SELECT count(*) FROM orders", expect_value=0)
    outcome = await sql.run(unmet, context(), Sink())
    assert outcome.status == "failed"
    assert outcome.detail.endswith("value 25, expected 0")
    assert scalar(orders, "SELECT count(*) FROM orders WHERE status = 'gone'") == 0
    # The executor's pooled connection is still usable after both.
    assert (await sql.run(step(dsn=orders, query="SELECT 1", expect_value=1), context(), Sink())).ok


async def test_placeholders_are_bound(sql: SqlExecutor, orders: str) -> None:
    evil = "x'; DROP TABLE orders; --"
    action = step(dsn=orders, query="SELECT {{ name }}::text, '100%' AS pct", expect_value=evil)
    sink = Sink()
    outcome = await sql.run(action, context(name=Value(evil)), sink)
    assert outcome.status == "ok", outcome.detail
    assert "100%" in sink.text
    assert scalar(orders, "SELECT count(*) FROM orders") == 25
    lines = sql.describe(action, context(name=Value(evil)))
    assert "  SELECT %s::text, '100%%' AS pct" in lines
    assert f"  bind $1 = {evil!r}" in lines


async def test_statement_timeout(sql: SqlExecutor, pg_dsn: str) -> None:
    action = step(dsn=pg_dsn, query="SELECT pg_sleep(30)", timeout="500ms")
    outcome = await sql.run(action, context(check=True), Sink())
    assert outcome.status == "timeout"
    assert outcome.detail.endswith("statement timeout after 0.5s")


async def test_cancel_stops_the_query_on_the_server(sql: SqlExecutor, pg_dsn: str, pg: PgLab) -> None:
    marker = "rbconsole-cancel-probe"
    action = step(dsn=pg_dsn, query=f"SELECT pg_sleep(60) /* {marker} */", timeout="2m")
    task = asyncio.create_task(sql.run(action, context(), Sink()))
    probe = f"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%{marker}%' AND pid <> pg_backend_pid()"
    async with asyncio.timeout(20):
        while scalar(pg.dsn(), probe) == 0:
            await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(20):
        while scalar(pg.dsn(), probe) != 0:
            await asyncio.sleep(0.05)


async def test_password_never_shown(sql: SqlExecutor, pg: PgLab, pg_dsn: str) -> None:
    sink = Sink()
    wrong = pg.dsn().replace(pg.password, "Wr0ng-pa55")
    outcome = await sql.run(step(dsn=wrong, query="SELECT 1"), context(), sink)
    assert outcome.status == "failed"
    assert "password authentication failed" in outcome.detail
    assert "Wr0ng-pa55" not in outcome.detail + sink.text
    good = step(dsn=pg_dsn, query="SELECT current_setting('application_name') || {{ x }}::text")
    outcome = await sql.run(good, context(x=Value(pg.password)), sink)
    assert outcome.ok, outcome.detail
    described = "\n".join(sql.describe(good, context(x=Value(pg.password))))
    everything = outcome.detail + sink.text + described
    assert pg.password not in everything
    assert described.startswith(f"sql on 127.0.0.1:{pg.port}/") and "password" not in described.splitlines()[0]


async def test_dsn_from_env_and_placeholders_in_the_dsn(
    sql: SqlExecutor, pg: PgLab, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RB_TEST_DSN", pg_dsn)
    assert (await sql.run(step(dsn_env="RB_TEST_DSN", query="SELECT 1", expect_value=1), context(), Sink())).ok
    missing = await sql.run(step(dsn_env="RB_NOT_SET_DSN", query="SELECT 1"), context(), Sink())
    assert missing.status == "error"
    assert "RB_NOT_SET_DSN" in missing.detail
    templated = step(
        dsn="host=127.0.0.1 port={{ port }} user=postgres password={{ pw }} dbname=postgres", query="SELECT 1"
    )
    ctx = context(port=Value(str(pg.port)), pw=Value(pg.password, secret=True))
    assert (await sql.run(templated, ctx, Sink())).ok
    # A value cannot smuggle a second connection parameter in.
    smuggle = context(port=Value(f"{pg.port} dbname=template1"), pw=Value(pg.password))
    outcome = await sql.run(templated, smuggle, Sink())
    assert outcome.status == "failed"
    assert "invalid" in outcome.detail.lower()


async def test_unreachable_database(sql: SqlExecutor) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome = await sql.run(step(dsn=f"postgresql://u:pw@127.0.0.1:{port}/db", query="SELECT 1"), context(), Sink())
    assert outcome.status == "failed"
    assert outcome.detail.startswith(f"sql q on 127.0.0.1:{port}/db: cannot connect: ")
    assert ":pw@" not in outcome.detail


async def test_dry_run_and_describe(sql: SqlExecutor, orders: str) -> None:
    action = step(dsn=orders, query="DELETE FROM orders WHERE id = {{ id }}", expect_rows=1)
    ctx = context(dry_run=True, id=Value("7"))
    outcome = await sql.run(action, ctx, Sink())
    assert outcome.status == "skipped"
    assert scalar(orders, "SELECT count(*) FROM orders") == 25
    lines = sql.describe(action, ctx)
    assert (
        lines[0].startswith("sql on 127.0.0.1:") and "(read-write, statement_timeout 300s, one transaction)" in lines[0]
    )
    assert "password" not in lines[0] and "keepalives" not in lines[0]
    assert lines[1:] == ["  DELETE FROM orders WHERE id = %s", "  bind $1 = '7'", "  expect rows = 1"]


async def test_placeholder_inside_a_string_literal_is_explained(sql: SqlExecutor, orders: str) -> None:
    action = step(dsn=orders, query="SELECT count(*) FROM orders WHERE status = '{{ status }}'")
    outcome = await sql.run(action, context(status=Value("ok")), Sink())
    assert outcome.status == "error"
    assert outcome.detail == "q: {{ status }} is inside a quoted SQL string; write it unquoted (it is bound)"
    fixed = step(
        dsn=orders, query="SELECT count(*) FROM orders WHERE status = {{ status }} AND 'it''s' <> ''", expect_value=23
    )
    assert (await sql.run(fixed, context(status=Value("ok")), Sink())).ok


async def test_capture_from_the_result(sql: SqlExecutor, orders: str) -> None:
    action = step(
        dsn=orders,
        query="SELECT id, amount, status FROM orders WHERE status = 'failed' ORDER BY id",
        capture={
            "first": "json:value",
            "n": "json:count",
            "amount": "json:rows.1.amount",
            "last": "stdout",
            "ids": "regex:^(\\d+)\t",
        },
    )
    outcome = await sql.run(action, context(), Sink())
    assert outcome.status == "ok", outcome.detail
    assert outcome.captured == {"first": "10", "n": "2", "amount": "30.0", "last": "20\t30.0\tfailed", "ids": "10"}
    missing = await sql.run(
        step(dsn=orders, query="SELECT 1 WHERE false", capture={"v": "json:value"}), context(), Sink()
    )
    assert missing.status == "failed"
    assert "capture 'v': no value at 'value'" in missing.detail


async def test_terminal_escapes_in_results_and_errors_are_shown_not_obeyed(sql: SqlExecutor, pg_dsn: str) -> None:
    sink = Sink()
    shown = await sql.run(step(dsn=pg_dsn, query="SELECT E'\\x1b[2Jcleared' AS v"), context(), sink)
    assert shown.ok and "\x1b" not in sink.text and "\\x1b[2Jcleared" in sink.text
    failed = await sql.run(step(dsn=pg_dsn, query="SELECT E'\\x1b[31m'::int"), context(), sink)
    assert failed.status == "failed" and "\x1b" not in failed.detail and "\\x1b[31m" in failed.detail


async def test_parallel_checks_on_one_database_each_get_a_connection(sql: SqlExecutor, orders: str) -> None:
    """Pre-checks run in parallel; one shared connection would interleave their transactions."""
    actions = [
        step(id=f"c{i}", dsn=orders, query="SELECT count(*) FROM orders, pg_sleep(0.05)", expect_value=25)
        for i in range(6)
    ]
    outcomes = await asyncio.gather(*(sql.run(a, context(check=True), Sink()) for a in actions))
    assert [o.status for o in outcomes] == ["ok"] * 6, [o.detail for o in outcomes]
    again = await sql.run(actions[0], context(check=True), Sink())
    assert again.status == "ok"
    assert sum(len(conns) for conns in sql._idle.values()) == 6  # returned to the pool, reused
