"""PostgreSQL through psycopg (async): every query in a read-only transaction that is always rolled back.

PostgreSQL enforces it: the session sets ``default_transaction_read_only = on``, the transaction starts with
``SET TRANSACTION READ ONLY`` and ``SET LOCAL statement_timeout`` (and ``lock_timeout``), and the query runs
through a server-side cursor (``DECLARE ... CURSOR FOR``, extended protocol: exactly one statement) that is
read in batches until ``max_rows``/``max_bytes``. A connection is opened per query and always closed; use a
role with ``SELECT`` privileges only (docs/data-connectors.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql as pgsql

from rivulet.data.connectors._common import (
    EXACT_COUNT_ROWS,
    SAMPLE_SCAN_ROWS,
    RowCollector,
    datasource_error,
    looks_secret,
    normalise_type,
    sample_values,
    timeout_error,
)
from rivulet.data.specs import DatasourceTest
from rivulet.lib.exceptions import DatasourceError
from rivulet.sdk.data import ColumnInfo, DatasourceKind, QueryLimits, TableInfo

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from rivulet.sdk.ports import Table

__all__ = ("PostgresConnector",)

CONNECT_TIMEOUT_S = 10
INTROSPECTION_TIMEOUT_S = 60.0
_GRACE_S = 5.0
"""The client gives up this long after the server's statement timeout should have fired."""

_TABLES = """
SELECT c.oid, n.nspname, c.relname, c.relkind, coalesce(obj_description(c.oid, 'pg_class'), ''),
       c.reltuples::bigint
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname
"""
_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       coalesce(col_description(a.attrelid, a.attnum), '')
FROM pg_attribute a
WHERE a.attrelid = ANY(%(oids)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""
_KEYS = """
SELECT con.conrelid, con.contype, a.attname, fn.nspname, fc.relname, fa.attname
FROM pg_constraint con
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) AS k(attnum, fattnum)
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
LEFT JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.fattnum
WHERE con.contype IN ('p', 'f') AND con.conrelid = ANY(%(oids)s)
"""


def _display_name(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


class PostgresConnector:
    """A PostgreSQL database (``host``, ``port``, ``database``, ``user``, ``sslmode`` + the password)."""

    kind: DatasourceKind = "postgres"
    dialect: str = "postgres"

    def __init__(self, name: str, config: dict[str, Any], password: str | None) -> None:
        self.name = name
        self._password = password
        self._params: dict[str, Any] = {
            "host": config.get("host") or "localhost",
            "port": int(config.get("port") or 5432),
            "dbname": config.get("database") or config.get("dbname") or "postgres",
            "user": config.get("user") or "postgres",
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": "rivulet",
        }
        if config.get("sslmode"):
            self._params["sslmode"] = str(config["sslmode"])

    def _error(self, exc: BaseException, *, reason: str, action: str = "query") -> DatasourceError:
        return datasource_error(self.name, exc, reason=reason, password=self._password, action=action)

    @contextlib.asynccontextmanager
    async def _transaction(self, timeout_s: float) -> AsyncGenerator[psycopg.AsyncConnection[Any]]:
        """A connection in a read-only transaction with the statement timeout, rolled back and closed after."""
        try:
            conn = await psycopg.AsyncConnection.connect(
                **self._params, password=self._password or None, autocommit=True
            )
        except (psycopg.Error, OSError) as exc:
            raise self._error(exc, reason="connect", action="connect") from exc
        try:
            milliseconds = max(1, int(timeout_s * 1000))
            await conn.execute("SET default_transaction_read_only = on")
            async with conn.transaction(force_rollback=True):
                await conn.execute("SET TRANSACTION READ ONLY")
                await conn.execute(pgsql.SQL("SET LOCAL statement_timeout = {}").format(milliseconds))
                await conn.execute(pgsql.SQL("SET LOCAL lock_timeout = {}").format(milliseconds))
                yield conn
        finally:
            with contextlib.suppress(psycopg.Error, OSError):
                await conn.close()

    async def test(self) -> DatasourceTest:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S + _GRACE_S), self._transaction(10.0) as conn:
                cursor = await conn.execute("SELECT version()")
                version = await cursor.fetchone()
                cursor = await conn.execute(_TABLES)
                tables = len(await cursor.fetchall())
        except DatasourceError as exc:
            return DatasourceTest(ok=False, latency_ms=(time.perf_counter() - started) * 1000, error=exc.detail)
        except TimeoutError:
            return DatasourceTest(
                ok=False,
                latency_ms=(time.perf_counter() - started) * 1000,
                error=f"data source {self.name!r}: no answer within {CONNECT_TIMEOUT_S + _GRACE_S:g} s",
            )
        except psycopg.Error as exc:
            error = self._error(exc, reason="query", action="test")
            return DatasourceTest(ok=False, latency_ms=(time.perf_counter() - started) * 1000, error=error.detail)
        server = str(version[0]).split(" on ")[0].split(",")[0] if version else ""
        return DatasourceTest(ok=True, latency_ms=(time.perf_counter() - started) * 1000, server=server, tables=tables)

    async def execute(self, sql: str, params: dict[str, Any] | None, limits: QueryLimits) -> Table:
        try:
            async with asyncio.timeout(limits.timeout_s + CONNECT_TIMEOUT_S + _GRACE_S):
                async with self._transaction(limits.timeout_s) as conn:
                    return await self._fetch(conn, sql, params, limits)
        except TimeoutError as exc:
            raise timeout_error(self.name, limits.timeout_s) from exc
        except psycopg.errors.QueryCanceled as exc:
            raise timeout_error(self.name, limits.timeout_s) from exc
        except psycopg.Error as exc:
            raise self._error(exc, reason="query") from exc

    async def _fetch(
        self, conn: psycopg.AsyncConnection[Any], sql: str, params: dict[str, Any] | None, limits: QueryLimits
    ) -> Table:
        cursor = conn.cursor(name=f"rivulet_{uuid.uuid4().hex[:12]}")
        try:
            await cursor.execute(sql, params)  # pyright: ignore[reportArgumentType] - already driver-native text
            description = cursor.description or []
            columns = [column.name for column in description]
            types = [self._type_name(conn, column) for column in description]
            collector = RowCollector(limits)
            while rows := await cursor.fetchmany(collector.want):
                if not collector.add_many(rows):
                    break
            return collector.table(columns, types)
        finally:
            with contextlib.suppress(psycopg.Error):
                await cursor.close()

    @staticmethod
    def _type_name(conn: psycopg.AsyncConnection[Any], column: psycopg.Column) -> str:
        info = conn.adapters.types.get(column.type_code)
        return normalise_type(info.name if info is not None else column.type_display)

    async def introspect(self, *, samples: int = 3) -> list[TableInfo]:
        try:
            async with asyncio.timeout(INTROSPECTION_TIMEOUT_S + CONNECT_TIMEOUT_S + _GRACE_S):
                async with self._transaction(INTROSPECTION_TIMEOUT_S) as conn:
                    return await self._introspect(conn, samples)
        except (TimeoutError, psycopg.errors.QueryCanceled) as exc:
            raise timeout_error(self.name, INTROSPECTION_TIMEOUT_S) from exc
        except psycopg.Error as exc:
            raise self._error(exc, reason="query", action="introspection") from exc

    async def _introspect(self, conn: psycopg.AsyncConnection[Any], samples: int) -> list[TableInfo]:
        objects = await (await conn.execute(_TABLES)).fetchall()
        oids = [row[0] for row in objects]
        names = {row[0]: _display_name(row[1], row[2]) for row in objects}
        columns_of: dict[int, list[tuple[Any, ...]]] = {}
        for row in await (await conn.execute(_COLUMNS, {"oids": oids})).fetchall():
            columns_of.setdefault(row[0], []).append(row)
        primary: dict[int, set[str]] = {}
        references: dict[tuple[int, str], str] = {}
        for relid, contype, column, ref_schema, ref_table, ref_column in await (
            await conn.execute(_KEYS, {"oids": oids})
        ).fetchall():
            if contype == "p":
                primary.setdefault(relid, set()).add(column)
            elif ref_table is not None:
                references[(relid, column)] = f"{_display_name(ref_schema, ref_table)}.{ref_column}"
        tables: list[TableInfo] = []
        for oid, schema, table, relkind, comment, estimate in objects:
            ident = pgsql.Identifier(schema, table)
            row_count: int | None = None
            if relkind != "v":
                bounded = pgsql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT {}) AS t").format(
                    ident, EXACT_COUNT_ROWS
                )
                counted = await (await conn.execute(bounded)).fetchone()
                row_count = int(counted[0]) if counted else None
                if row_count is not None and row_count >= EXACT_COUNT_ROWS:
                    row_count = max(row_count, int(estimate))
            cols = columns_of.get(oid, [])
            wanted = [c[1] for c in cols if not looks_secret(c[1]) and normalise_type(c[2]) not in {"json", "unknown"}]
            values: dict[str, list[Any]] = {}
            if samples > 0 and wanted:
                query = pgsql.SQL("SELECT {} FROM {} LIMIT {}").format(
                    pgsql.SQL(", ").join(pgsql.Identifier(c) for c in wanted), ident, SAMPLE_SCAN_ROWS
                )
                rows = await (await conn.execute(query)).fetchall()
                values = {c: [r[i] for r in rows] for i, c in enumerate(wanted)}
            keys = primary.get(oid, set())
            columns = [
                ColumnInfo(
                    name=column,
                    type=db_type,
                    nullable=bool(nullable) and column not in keys,
                    primary_key=column in keys,
                    references=references.get((oid, column)),
                    comment=col_comment,
                    samples=sample_values(column, db_type, values.get(column, []), samples),
                )
                for _relid, column, db_type, nullable, col_comment in cols
            ]
            tables.append(
                TableInfo(
                    name=names[oid],
                    kind="view" if relkind in {"v", "m"} else "table",
                    comment=comment,
                    columns=columns,
                    row_count=row_count,
                )
            )
        return tables

    async def close(self) -> None:
        return None
