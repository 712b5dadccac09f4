"""MySQL and MariaDB through aiomysql: every query in a read-only transaction with a statement time limit.

The server enforces it: the session is ``SET SESSION TRANSACTION READ ONLY`` and the query runs inside ``START
TRANSACTION READ ONLY`` that is always rolled back; the time limit is ``max_statement_time`` (MariaDB, seconds,
every statement) or ``max_execution_time`` (MySQL, milliseconds, SELECTs), and past it plus a grace period
the client kills the query (``KILL QUERY``) from a second connection. The connection is made *without* the
multi-statements capability (aiomysql turns it on by default), so the server parses exactly one statement, and
without ``LOCAL INFILE``. Rows are read unbuffered in batches until ``max_rows``/``max_bytes``. A connection is
opened per query and always closed. Use an account with ``SELECT`` only and without ``FILE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import TYPE_CHECKING, Any

import aiomysql  # pyright: ignore[reportMissingTypeStubs]
import pymysql
from pymysql.constants import CLIENT, FIELD_TYPE

from rivulet.data.connectors._common import (
    EXACT_COUNT_ROWS,
    SAMPLE_SCAN_ROWS,
    RowCollector,
    datasource_error,
    looks_secret,
    normalise_type,
    quote_ident,
    sample_values,
    timeout_error,
)
from rivulet.data.specs import DatasourceTest
from rivulet.lib.exceptions import DatasourceError
from rivulet.sdk.data import ColumnInfo, DatasourceKind, QueryLimits, TableInfo

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from rivulet.sdk.ports import Table

__all__ = ("MySQLConnector",)

CONNECT_TIMEOUT_S = 10
INTROSPECTION_TIMEOUT_S = 60.0
_GRACE_S = 3.0
_TIMEOUT_ERRNOS = {1969, 3024, 1317}
"""MariaDB max_statement_time, MySQL max_execution_time, query interrupted (KILL QUERY)."""

_FIELD_TYPES: dict[int, str] = {
    FIELD_TYPE.TINY: "integer",
    FIELD_TYPE.SHORT: "integer",
    FIELD_TYPE.LONG: "integer",
    FIELD_TYPE.LONGLONG: "integer",
    FIELD_TYPE.INT24: "integer",
    FIELD_TYPE.YEAR: "integer",
    FIELD_TYPE.DECIMAL: "number",
    FIELD_TYPE.NEWDECIMAL: "number",
    FIELD_TYPE.FLOAT: "number",
    FIELD_TYPE.DOUBLE: "number",
    FIELD_TYPE.DATE: "date",
    FIELD_TYPE.NEWDATE: "date",
    FIELD_TYPE.DATETIME: "datetime",
    FIELD_TYPE.TIMESTAMP: "datetime",
    FIELD_TYPE.TIME: "text",
    FIELD_TYPE.VARCHAR: "text",
    FIELD_TYPE.VAR_STRING: "text",
    FIELD_TYPE.STRING: "text",
    FIELD_TYPE.ENUM: "text",
    FIELD_TYPE.SET: "text",
    FIELD_TYPE.JSON: "json",
}


_QUERY_START = {"select", "with", "values", "table", "("}
_LEADING_NOISE = re.compile(r"\s+|--(?=\s|$)[^\n]*(\n|$)|#[^\n]*(\n|$)|/\*(?!!)(.|\n)*?\*/")


def _first_word(sql: str) -> str:
    """The statement's first keyword after whitespace and comments (``/*!`` executable comments are code)."""
    position = 0
    while match := _LEADING_NOISE.match(sql, position):
        if match.end() == position:
            break
        position = match.end()
    rest = sql[position:]
    if rest.startswith("("):
        return "("
    word = re.match(r"[A-Za-z_]+", rest)
    return word.group(0).lower() if word else rest[:3]


class _Unbuffered(aiomysql.SSCursor):  # pyright: ignore[reportUntypedBaseClass]
    """Rows streamed from the server; server warnings are not turned into Python warnings."""

    async def _show_warnings(self, conn: Any) -> None:
        return None


class _Buffered(aiomysql.Cursor):  # pyright: ignore[reportUntypedBaseClass]
    async def _show_warnings(self, conn: Any) -> None:
        return None


class MySQLConnector:
    """A MySQL or MariaDB database (``host`` or a socket path, ``port``, ``database``, ``user`` + the password)."""

    kind: DatasourceKind = "mysql"
    dialect: str = "mysql"

    def __init__(self, name: str, config: dict[str, Any], password: str | None) -> None:
        self.name = name
        self._password = password
        host = str(config.get("host") or "localhost")
        self._params: dict[str, Any] = {
            "user": config.get("user") or "root",
            "db": config.get("database") or None,
            "connect_timeout": CONNECT_TIMEOUT_S,
            "charset": "utf8mb4",
            "autocommit": True,
            "local_infile": False,
            "program_name": "rivulet",
        }
        if host.startswith("/"):
            self._params["unix_socket"] = host
        else:
            self._params["host"] = host
            self._params["port"] = int(config.get("port") or 3306)

    def _error(self, exc: BaseException, *, reason: str, action: str = "query") -> DatasourceError:
        return datasource_error(self.name, exc, reason=reason, password=self._password, action=action)

    async def _connect(self) -> Any:
        conn: Any = aiomysql.Connection(password=self._password or "", cursorclass=_Buffered, **self._params)
        conn.client_flag &= ~CLIENT.MULTI_STATEMENTS
        try:
            await conn._connect()  # noqa: SLF001 - aiomysql.connect() cannot turn MULTI_STATEMENTS off
        except (pymysql.MySQLError, OSError) as exc:
            conn.close()
            raise self._error(exc, reason="connect", action="connect") from exc
        return conn

    @contextlib.asynccontextmanager
    async def _transaction(self, timeout_s: float) -> AsyncGenerator[tuple[Any, bool]]:
        """A connection inside ``START TRANSACTION READ ONLY`` with the time limit; ``(conn, is_mariadb)``.

        Afterwards the transaction is rolled back and the connection closed; a connection left with unread rows
        (stopped at a cap) is closed at once instead, which the server rolls back too.
        """
        conn = await self._connect()
        try:
            mariadb = "mariadb" in str(conn.get_server_info()).lower()
            async with conn.cursor() as cursor:
                await cursor.execute("SET SESSION TRANSACTION READ ONLY")
                if mariadb:
                    await cursor.execute(f"SET SESSION max_statement_time = {max(0.001, timeout_s):.3f}")
                else:
                    await cursor.execute(f"SET SESSION max_execution_time = {max(1, int(timeout_s * 1000))}")
                await cursor.execute("START TRANSACTION READ ONLY")
            yield conn, mariadb
            if not getattr(conn, "_rivulet_unread", False):
                with contextlib.suppress(pymysql.MySQLError, OSError):
                    await conn.rollback()
                    await conn.ensure_closed()
        finally:
            conn.close()

    async def _kill(self, thread_id: int) -> None:
        """``KILL QUERY`` a statement that outlived its limit (best effort, from a second connection)."""
        with contextlib.suppress(DatasourceError, pymysql.MySQLError, OSError):
            conn = await self._connect()
            try:
                async with conn.cursor() as cursor:
                    await cursor.execute(f"KILL QUERY {int(thread_id)}")
            finally:
                conn.close()

    async def test(self) -> DatasourceTest:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S + _GRACE_S), self._transaction(10.0) as (conn, _):
                async with conn.cursor() as cursor:
                    await cursor.execute(
                        "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                    )
                    row = await cursor.fetchone()
                server = str(conn.get_server_info())
        except DatasourceError as exc:
            return DatasourceTest(ok=False, latency_ms=(time.perf_counter() - started) * 1000, error=exc.detail)
        except TimeoutError:
            return DatasourceTest(
                ok=False,
                latency_ms=(time.perf_counter() - started) * 1000,
                error=f"data source {self.name!r}: no answer within {CONNECT_TIMEOUT_S + _GRACE_S:g} s",
            )
        except (pymysql.MySQLError, OSError) as exc:
            error = self._error(exc, reason="query", action="test")
            return DatasourceTest(ok=False, latency_ms=(time.perf_counter() - started) * 1000, error=error.detail)
        flavour = "MariaDB" if "mariadb" in server.lower() else "MySQL"
        version = server.removeprefix("5.5.5-").split("-")[0]
        return DatasourceTest(
            ok=True,
            latency_ms=(time.perf_counter() - started) * 1000,
            server=f"{flavour} {version}",
            tables=int(row[0]) if row else 0,
        )

    async def execute(self, sql: str, params: dict[str, Any] | None, limits: QueryLimits) -> Table:
        first = _first_word(sql)
        if first not in _QUERY_START:
            # SHOW GRANTS shows the account's own password hash, HANDLER/SET/DO/KILL are not queries: MySQL has no
            # server-side switch for "queries only", so statements that do not start like one never reach it.
            raise DatasourceError(
                f"data source {self.name!r}: only queries (SELECT, WITH, VALUES, TABLE) run here, not {first!r}",
                extra={"reason": "query"},
            )
        try:
            async with self._transaction(limits.timeout_s) as (conn, _):
                thread_id = int(conn.thread_id())
                try:
                    async with asyncio.timeout(limits.timeout_s + _GRACE_S):
                        return await self._fetch(conn, sql, params, limits)
                except TimeoutError as exc:
                    await self._kill(thread_id)
                    raise timeout_error(self.name, limits.timeout_s) from exc
        except pymysql.MySQLError as exc:
            if exc.args and exc.args[0] in _TIMEOUT_ERRNOS:
                raise timeout_error(self.name, limits.timeout_s) from exc
            raise self._error(exc, reason="query") from exc
        except OSError as exc:
            raise self._error(exc, reason="query") from exc

    async def _fetch(self, conn: Any, sql: str, params: dict[str, Any] | None, limits: QueryLimits) -> Table:
        cursor: Any = await conn.cursor(_Unbuffered)
        await cursor.execute(sql, params)
        description: list[Any] = list(cursor.description or [])
        columns = [str(d[0]) for d in description]
        types = [_FIELD_TYPES.get(int(d[1]), "unknown") for d in description]
        collector = RowCollector(limits)
        while rows := await cursor.fetchmany(collector.want):
            if not collector.add_many(rows):
                conn._rivulet_unread = True  # noqa: SLF001 - see _transaction
                break
        return collector.table(columns, types)

    async def introspect(self, *, samples: int = 3) -> list[TableInfo]:
        try:
            async with (
                asyncio.timeout(INTROSPECTION_TIMEOUT_S + CONNECT_TIMEOUT_S + _GRACE_S),
                self._transaction(INTROSPECTION_TIMEOUT_S) as (conn, _),
                conn.cursor() as cursor,
            ):
                return await _introspect(cursor, samples)
        except TimeoutError as exc:
            raise timeout_error(self.name, INTROSPECTION_TIMEOUT_S) from exc
        except (pymysql.MySQLError, OSError) as exc:
            raise self._error(exc, reason="query", action="introspection") from exc

    async def close(self) -> None:
        return None


async def _rows(cursor: Any, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    await cursor.execute(sql, args)
    return list(await cursor.fetchall())


async def _introspect(cursor: Any, samples: int) -> list[TableInfo]:
    objects = await _rows(
        cursor,
        "SELECT TABLE_NAME, TABLE_TYPE, TABLE_COMMENT, TABLE_ROWS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )
    columns_of: dict[str, list[tuple[Any, ...]]] = {}
    for row in await _rows(
        cursor,
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY, COLUMN_COMMENT "
        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
    ):
        columns_of.setdefault(str(row[0]), []).append(row)
    references: dict[tuple[str, str], str] = {}
    current = await _rows(cursor, "SELECT DATABASE()")
    for table, column, ref_schema, ref_table, ref_column in await _rows(
        cursor,
        "SELECT TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME "
        "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() "
        "AND REFERENCED_TABLE_NAME IS NOT NULL",
    ):
        prefix = "" if current and ref_schema == current[0][0] else f"{ref_schema}."
        references[(str(table), str(column))] = f"{prefix}{ref_table}.{ref_column}"
    tables: list[TableInfo] = []
    for table, table_type, comment, estimate in objects:
        name = str(table)
        is_view = "VIEW" in str(table_type).upper()
        ident = quote_ident(name, "`")
        row_count: int | None = None
        if not is_view:
            counted = await _rows(cursor, f"SELECT count(*) FROM (SELECT 1 FROM {ident} LIMIT {EXACT_COUNT_ROWS}) t")
            row_count = int(counted[0][0]) if counted else None
            if row_count is not None and row_count >= EXACT_COUNT_ROWS:
                row_count = max(row_count, int(estimate or 0))
        cols = columns_of.get(name, [])
        wanted = [
            str(c[1])
            for c in cols
            if not looks_secret(str(c[1])) and normalise_type(str(c[2])) not in {"json", "unknown"}
        ]
        values: dict[str, list[Any]] = {}
        if samples > 0 and wanted:
            listed = ", ".join(quote_ident(c, "`") for c in wanted)
            rows = await _rows(cursor, f"SELECT {listed} FROM {ident} LIMIT {SAMPLE_SCAN_ROWS}")
            values = {c: [r[i] for r in rows] for i, c in enumerate(wanted)}
        columns = [
            ColumnInfo(
                name=str(column),
                type=str(db_type),
                nullable=str(nullable).upper() == "YES" and key != "PRI",
                primary_key=key == "PRI",
                references=references.get((name, str(column))),
                comment=str(col_comment or ""),
                samples=sample_values(str(column), str(db_type), values.get(str(column), []), samples),
            )
            for _t, column, db_type, nullable, key, col_comment in cols
        ]
        tables.append(
            TableInfo(
                name=name,
                kind="view" if is_view else "table",
                comment="" if is_view else str(comment or ""),
                columns=columns,
                row_count=row_count,
            )
        )
    return tables
