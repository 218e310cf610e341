"""SQL checks and steps (psycopg 3, async, imported on first use).

A step is one transaction: committed when the step passes, rolled back when the query fails,
an expectation is not met, or the step is cancelled. Checks (and ``read_only`` steps) run in a
READ ONLY transaction. Every step carries a server-side ``statement_timeout`` from its
timeout, with a client-side deadline behind it; cancelling cancels the query on the server
(``cancel_safe``). Placeholders become bind parameters, never query text. A DSN is parsed by
libpq and rebuilt parameter by parameter, so a substituted value can only ever be one
parameter's value; its password never appears in any message or output. A ``capture``
reads the result (see ``_capture``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.executors.base import ExecContext, Outcome, OutputSink, ResolvingExecutor
from tui.executors.capture import CaptureError, capture_values
from tui.executors.expect import compare, parse_comparison, show
from tui.executors.sql_guard import ReadOnlyRefused, check_read_only
from tui.executors.text import printable
from tui.runbook.model import SqlAction
from tui.runbook.placeholders import PLACEHOLDER, RenderError, landing, render_data, render_sql, render_text

if TYPE_CHECKING:
    import psycopg

MASK = "••••••"
HOST = "local"
SHOW_ROWS = 10
SHOW_WIDTH = 40
CONNECT_TIMEOUT = 10  # seconds; libpq's own default is to wait forever
GRACE = 5.0  # the client deadline trails the server's statement_timeout by this much
# How soon the server notices a client that died mid-query (PostgreSQL 14+), and how soon the
# kernel notices a dead peer on an idle socket either way.
CLIENT_CHECK_MS = 2000
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "10", "keepalives_interval": "5", "keepalives_count": "3"}
READ_ONLY_SESSION = "-c default_transaction_read_only=on"


def _planned_where(params: dict[str, str]) -> str:
    """host:port/db as libpq will pick them before it connects: the DSN's, else the PG*
    variables', else its defaults (a service file is only known once connected)."""
    from psycopg import pq

    defaults = {o.keyword.decode(): o.val.decode() for o in pq.Conninfo.get_defaults() if o.val is not None}
    merged = {**defaults, **params}
    where = f"{merged.get('host') or 'local socket'}:{merged.get('port') or '5432'}/{merged.get('dbname') or ''}"
    return f"service {params['service']} ({where})" if params.get("service") else where


def connected_where(conn: Any) -> str:
    """host:port/db of a live connection, as libpq resolved them."""
    info = conn.info
    return f"{info.host}:{info.port}/{info.dbname}"


class _Target:
    """Where a step connects: the libpq parameters, and how to name them without the password."""

    def __init__(self, action: SqlAction, ctx: ExecContext, timeout: float, read_only: bool) -> None:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        dsn, dsn_env, field = action.dsn, action.dsn_env, "dsn_env"
        if ctx.check_mode and (action.check_dsn is not None or action.check_dsn_env is not None):
            dsn, dsn_env, field = action.check_dsn, action.check_dsn_env, "check_dsn_env"
        if dsn_env is not None:
            template = os.environ.get(dsn_env)
            if not template:
                raise RenderError(f"environment variable {dsn_env} ({field}) is not set")
            tokens: dict[str, str] = {}
        elif (whole := PLACEHOLDER.fullmatch((dsn or "").strip())) is not None:
            # A dsn that is one placeholder is a whole DSN (a URI or key=value) from a var,
            # profile or --var; a placeholder inside a DSN fills one parameter only (below).
            template, tokens = landing(ctx.scope, whole.group(1)).text, {}
            if not template.strip():
                raise RenderError(f"{{{{ {whole.group(1)} }}}} (the DSN) is empty")
        else:
            template, tokens = _tokenise(dsn or "")
        try:
            params = {key: str(value) for key, value in conninfo_to_dict(template).items()}
        except Exception:
            # libpq's message quotes the DSN, password and all.
            raise RenderError("the DSN cannot be parsed (check its syntax)") from None
        for key, value in params.items():
            for token, name in tokens.items():
                if token in value:
                    value = value.replace(token, render_text(f"{{{{ {name} }}}}", ctx.scope))
            params[key] = value
        params.setdefault("connect_timeout", str(max(2, min(CONNECT_TIMEOUT, round(timeout)))))
        for key, value in KEEPALIVES.items():
            params.setdefault(key, value)
        if read_only:
            # The session itself is read-only, not only the transaction the check runs in.
            params["options"] = (
                f"{params['options']} {READ_ONLY_SESSION}" if params.get("options") else READ_ONLY_SESSION
            )
        self.password = params.get("password", "")
        self.conninfo = make_conninfo("", **params)
        self.where = _planned_where(params)
        # What the operator names a database by: where it is and as whom (the whole conninfo,
        # keepalives and all, cut to "sql on user=app pass" in a plan's target column).
        self.shown = f"{self.where} as {params['user']}" if params.get("user") else self.where

    def redactor(self, ctx: ExecContext) -> Callable[[str], str]:
        password = self.password

        def redact(text: str) -> str:
            text = ctx.redact(text)
            return printable(text.replace(password, MASK) if password else text)

        return redact


def _tokenise(template: str) -> tuple[str, dict[str, str]]:
    """``template`` with each placeholder swapped for an inert token libpq parses as plain text."""
    tokens: dict[str, str] = {}

    def swap(match: Any) -> str:
        token = f"rbconsoleph{len(tokens)}x"
        tokens[token] = match.group(1)
        return token

    return PLACEHOLDER.sub(swap, template), tokens


class _Query:
    def __init__(self, action: SqlAction, ctx: ExecContext) -> None:
        for name, offset in _names(action.query):
            # An odd number of quotes before it: the placeholder is inside a string literal,
            # where a bind parameter is just the text "$1". Say so instead of a type error.
            if action.query[:offset].count("'") % 2:
                raise RenderError(f"{{{{ {name} }}}} is inside a quoted SQL string; write it unquoted (it is bound)")
        text, params = render_sql(action.query, ctx.scope)
        self.read_only = action.read_only if action.read_only is not None else ctx.check_mode
        if self.read_only:
            try:
                check_read_only(text)
            except ReadOnlyRefused as exc:
                raise RenderError(f"refused: {exc}") from None
            # Always bound (the extended protocol: one statement, a second is a syntax error).
            self.text = text
            self.params: list[str] | None = params
        else:
            # A step without parameters goes as written (several statements, no %% escaping).
            self.text = text if params else action.query
            self.params = params or None
        self.secret = [ctx.scope[name].secret for name, _ in _names(action.query)]
        self.expect_value = render_data(action.expect_value, ctx.scope)


def _names(query: str) -> list[tuple[str, int]]:
    return [(m.group(1), m.start()) for m in PLACEHOLDER.finditer(query)]


@dataclass(frozen=True)
class _Statement:
    """A step's statement resolved: the query, where it connects, and its statement timeout."""

    query: _Query
    target: _Target
    timeout: float


class SqlExecutor(ResolvingExecutor[SqlAction, _Statement]):
    def __init__(self) -> None:
        # Idle connections per target: a connection serves one action at a time (a transaction
        # cannot be shared), so checks running in parallel each borrow their own.
        self._idle: dict[str, list[psycopg.AsyncConnection[Any]]] = {}

    async def close(self) -> None:
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                await conn.close()

    def resolve(self, action: SqlAction, ctx: ExecContext) -> _Statement:
        timeout = action.timeout or ctx.default_timeout
        query = _Query(action, ctx)
        return _Statement(query, _Target(action, ctx, timeout, query.read_only), timeout)

    cannot_resolve = "sql {action.id}: cannot resolve: {why}"

    def describe_resolved(self, action: SqlAction, statement: _Statement, ctx: ExecContext) -> list[str]:
        query, target, timeout = statement.query, statement.target, statement.timeout
        redact = target.redactor(ctx)
        mode = "read-only" if query.read_only else "read-write"
        lines = [redact(f"sql on {target.shown} ({mode}, statement_timeout {timeout:g}s, one transaction)")]
        lines.extend("  " + redact(line) for line in query.text.strip().splitlines())
        for index, value in enumerate(query.params or [], start=1):
            lines.append(f"  bind ${index} = " + (MASK if query.secret[index - 1] else redact(repr(value))))
        if action.expect_rows is not None:
            lines.append(f"  expect rows {_expectation(action.expect_rows)}")
        if action.expect_value is not None:
            lines.append("  expect value " + redact(_expectation(query.expect_value)))
        return lines

    async def run_resolved(
        self, action: SqlAction, statement: _Statement, ctx: ExecContext, sink: OutputSink
    ) -> Outcome:
        import psycopg

        query, target, timeout = statement.query, statement.target, statement.timeout
        redact = target.redactor(ctx)
        where = f"sql {action.id} on {target.where}"
        started = time.perf_counter()
        sink(HOST, "info", redact(f"{where} ({'read-only' if query.read_only else 'read-write'})\n"))
        try:
            conn = await self._connect(target, timeout)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            return Outcome(
                "failed",
                detail=redact(f"{where}: cannot connect: {_message(exc, redact)}"),
                duration=_since(started),
                where=redact(target.where),
            )
        reached = redact(connected_where(conn))
        where = f"sql {action.id} on {reached}"
        try:
            async with asyncio.timeout(timeout + GRACE):
                columns, rows, count, failures, captured = await self._transaction(conn, query, action, timeout)
        except asyncio.CancelledError:
            await self._cancel(conn)
            raise
        except (TimeoutError, psycopg.errors.QueryCanceled) as exc:
            await self._cancel(conn)
            reason = "statement timeout" if isinstance(exc, psycopg.errors.QueryCanceled) else "no answer"
            return Outcome(
                "timeout", detail=f"{where}: {reason} after {timeout:g}s", duration=_since(started), where=reached
            )
        except psycopg.Error as exc:
            self._release(target, conn)
            detail = redact(f"{where}: {_message(exc, redact)}")
            return Outcome("failed", detail=detail, duration=_since(started), where=reached)
        self._release(target, conn)
        elapsed = _since(started)
        summary = f"{count} row{'s' if count != 1 else ''} in {elapsed * 1000:.0f} ms"
        sink(HOST, "stdout", redact("\n".join([*_table(columns, rows, redact), f"({summary})"]) + "\n"))
        if failures:
            detail = redact(f"{where}: " + "; ".join(failures))
            return Outcome("failed", detail=detail, duration=elapsed, summary=summary, where=reached)
        detail = redact(f"{where}: {summary}")
        return Outcome("ok", detail=detail, duration=elapsed, summary=summary, captured=captured, where=reached)

    async def _connect(self, target: _Target, timeout: float) -> psycopg.AsyncConnection[Any]:
        import psycopg

        idle = self._idle.setdefault(target.conninfo, [])
        while idle:
            conn = idle.pop()
            if not conn.closed and not conn.broken:
                return conn
        async with asyncio.timeout(min(timeout, CONNECT_TIMEOUT) + GRACE):
            return await psycopg.AsyncConnection.connect(target.conninfo, autocommit=True)

    def _release(self, target: _Target, conn: psycopg.AsyncConnection[Any]) -> None:
        if not conn.closed and not conn.broken:
            self._idle.setdefault(target.conninfo, []).append(conn)

    async def _transaction(
        self, conn: psycopg.AsyncConnection[Any], query: _Query, action: SqlAction, timeout: float
    ) -> tuple[list[str], list[Sequence[Any]], int, list[str], dict[str, str]]:
        """Run the query in its own transaction; roll back unless every expectation holds."""
        import psycopg

        columns: list[str] = []
        rows: list[Sequence[Any]] = []
        count = 0
        failures: list[str] = []
        captured: dict[str, str] = {}
        async with conn.transaction(), conn.cursor() as cur:
            if query.read_only:
                await cur.execute("SET TRANSACTION READ ONLY")
            await cur.execute("SELECT set_config('statement_timeout', %s, true)", [str(max(1, round(timeout * 1000)))])
            if conn.info.server_version >= 140000:
                # The server checks the client is still there while a query runs, so a client
                # killed mid-query does not leave its statement running until the timeout.
                await cur.execute(
                    "SELECT set_config('client_connection_check_interval', %s, true)", [str(CLIENT_CHECK_MS)]
                )
            # Read-only: prepared, so it goes by the extended protocol, which takes one statement.
            await cur.execute(query.text, query.params, prepare=True if query.read_only else None)  # type: ignore[arg-type]
            # Several statements: the last one that returned rows is the answer.
            while True:
                if cur.description is not None:
                    columns = [column.name for column in cur.description]
                    rows = await cur.fetchall()
                    count = len(rows)
                elif not columns:
                    count = max(cur.rowcount, 0)
                if not cur.nextset():
                    break
            failures = _check(action, query, rows, count)
            if not failures and action.capture:
                try:
                    captured = _capture(action, columns, rows, count)
                except CaptureError as exc:
                    failures.append(str(exc))
            if failures:
                # An unmet expectation or a capture that found nothing undoes the step's
                # writes, as a failed statement would.
                raise psycopg.Rollback()
        return columns, rows, count, failures, captured

    async def _cancel(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Stop the query on the server and drop the connection (its state is unknown)."""
        with contextlib.suppress(Exception):  # best effort: the connection is closed next anyway
            await asyncio.shield(conn.cancel_safe(timeout=5))
        await asyncio.shield(conn.close())


def _check(action: SqlAction, query: _Query, rows: list[Sequence[Any]], count: int) -> list[str]:
    failures = []
    if action.expect_rows is not None:
        reason = compare(count, action.expect_rows)
        if reason is not None:
            failures.append(f"row count {reason}")
    if action.expect_value is not None:
        if not rows or not rows[0]:
            failures.append(f"no rows (expected a value {_expectation(query.expect_value)})")
        else:
            reason = compare(rows[0][0], query.expect_value)
            if reason is not None:
                failures.append(f"value {reason}")
    return failures


def _capture(action: SqlAction, columns: list[str], rows: list[Sequence[Any]], count: int) -> dict[str, str]:
    """Captures read the result: ``stdout`` is the last row (cells tab-separated),
    ``regex:`` searches all rows, ``json:value`` / ``json:count`` / ``json:rows.0.NAME``."""
    plain = [[_plain(cell) for cell in row] for row in rows]
    text = "\n".join("\t".join("" if cell is None else str(cell) for cell in row) for row in plain)
    document = {
        "value": plain[0][0] if plain and plain[0] else None,
        "count": count,
        "rows": [dict(zip(columns, row, strict=False)) for row in plain],
    }
    return capture_values(action.capture, text, document)


def _plain(cell: object) -> object:
    return cell if cell is None or isinstance(cell, str | int | float | bool) else str(cell)


def _expectation(value: object) -> str:
    return str(value) if parse_comparison(value) else f"= {show(value)}"


def _table(columns: list[str], rows: list[Sequence[Any]], redact: Callable[[str], str]) -> list[str]:
    """The first rows as a small fixed-width text table (each cell masked whole, then shortened)."""
    if not columns:
        return []
    shown = [[_cell(value, redact) for value in row] for row in rows[:SHOW_ROWS]]
    widths = [max([len(name), *(len(row[i]) for row in shown)]) for i, name in enumerate(columns)]
    lines = [" | ".join(name.ljust(width) for name, width in zip(columns, widths, strict=True)).rstrip()]
    lines.append("-+-".join("-" * width for width in widths))
    lines.extend(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in shown)
    if len(rows) > SHOW_ROWS:
        lines.append(f"… {len(rows) - SHOW_ROWS} more rows")
    return lines


def _cell(value: object, redact: Callable[[str], str]) -> str:
    # Masked before anything reshapes it: a secret cut or re-spaced is no longer found whole.
    text = "NULL" if value is None else " ".join(redact(str(value)).split())
    return text if len(text) <= SHOW_WIDTH else text[: SHOW_WIDTH - 1] + "…"


def _message(exc: BaseException, redact: Callable[[str], str]) -> str:
    """libpq's first line (its later lines are hints), with the SQLSTATE when there is one;
    masked before it is shortened."""
    text = next((line for line in redact(str(exc)).splitlines() if line.strip()), type(exc).__name__)
    text = " ".join(text.split())
    text = text if len(text) <= 300 else text[:299] + "…"
    sqlstate = getattr(exc, "sqlstate", None)
    return f"{text} (SQLSTATE {sqlstate})" if sqlstate else text


def _since(started: float) -> float:
    return time.perf_counter() - started
