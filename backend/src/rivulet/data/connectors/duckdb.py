"""DuckDB database files, opened read-only with file access disabled, in worker threads.

DuckDB enforces it: the file is opened with ``read_only=True`` and the configuration ``enable_external_access=
false`` (no ``read_csv``/``COPY``/``ATTACH``/``INSTALL`` of anything outside the database) and
``lock_configuration=true`` (no ``SET`` can undo that). Each query runs on its own cursor inside ``BEGIN
TRANSACTION READ ONLY`` that is always rolled back; DuckDB's parser must find exactly one statement and no
transaction control. A timer calls ``interrupt()`` at ``timeout_s``. ``DuckDBEngine`` is shared with the file
connector (an in-memory DuckDB loaded from the files, then locked the same way).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from rivulet.data.connectors._common import (
    EXACT_COUNT_ROWS,
    SAMPLE_SCAN_ROWS,
    RowCollector,
    datasource_error,
    normalise_type,
    quote_ident,
    sample_values,
    timeout_error,
)
from rivulet.data.specs import DatasourceTest
from rivulet.lib.exceptions import DatasourceError
from rivulet.sdk.data import ColumnInfo, DatasourceKind, QueryLimits, TableInfo

if TYPE_CHECKING:
    from collections.abc import Callable

    from rivulet.sdk.ports import Table

__all__ = ("LOCKED_CONFIG", "DuckDBConnector", "DuckDBEngine", "lock_down")

_T = TypeVar("_T")

LOCKED_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
"""Connection settings of a locked DuckDB: no file, network or extension access, and no way to change that."""

INTROSPECTION_TIMEOUT_S = 60.0


def lock_down(conn: duckdb.DuckDBPyConnection) -> None:
    """Disable file/network/extension access on a running DuckDB and lock its configuration."""
    conn.execute("SET autoinstall_known_extensions = false")
    conn.execute("SET autoload_known_extensions = false")
    conn.execute("SET enable_external_access = false")
    conn.execute("SET lock_configuration = true")


class DuckDBEngine:
    """Runs queries on one open DuckDB database (a cursor per query, each in a read-only transaction)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.database: duckdb.DuckDBPyConnection | None = None

    async def run(self, work: Callable[[duckdb.DuckDBPyConnection], _T], timeout_s: float) -> _T:
        """``work(cursor)`` in a worker thread; the cursor is interrupted at ``timeout_s`` or on cancellation."""
        if self.database is None:
            raise DatasourceError(f"data source {self.name!r}: the database is closed", extra={"reason": "connect"})
        cursor = self.database.cursor()
        expired = threading.Event()

        def interrupt() -> None:
            expired.set()
            with contextlib.suppress(duckdb.Error):
                cursor.interrupt()

        def body() -> _T:
            timer = threading.Timer(timeout_s, interrupt)
            timer.daemon = True
            timer.start()
            try:
                cursor.execute("BEGIN TRANSACTION READ ONLY")
                try:
                    return work(cursor)
                finally:
                    with contextlib.suppress(duckdb.Error):
                        cursor.execute("ROLLBACK")
            except duckdb.Error as exc:
                if expired.is_set():
                    raise timeout_error(self.name, timeout_s) from exc
                raise datasource_error(self.name, exc, reason="query") from exc
            finally:
                timer.cancel()
                cursor.close()

        try:
            return await asyncio.to_thread(body)
        except asyncio.CancelledError:
            with contextlib.suppress(duckdb.Error):
                cursor.interrupt()
            raise

    async def execute(self, sql: str, params: dict[str, Any] | None, limits: QueryLimits) -> Table:
        def work(cursor: duckdb.DuckDBPyConnection) -> Table:
            statements = cursor.extract_statements(sql)
            if len(statements) != 1:
                raise DatasourceError(
                    f"data source {self.name!r}: exactly one SQL statement is allowed, got {len(statements)}",
                    extra={"reason": "query"},
                )
            statement = statements[0]
            if statement.type == duckdb.StatementType.TRANSACTION:
                raise DatasourceError(
                    f"data source {self.name!r}: transaction control is not allowed", extra={"reason": "query"}
                )
            cursor.execute(statement, params or None)
            if not cursor.description:
                return RowCollector(limits).table([], [])
            columns = [str(d[0]) for d in cursor.description]
            types = [normalise_type(str(d[1])) for d in cursor.description]
            collector = RowCollector(limits)
            while rows := cursor.fetchmany(collector.want):
                if not collector.add_many(rows):
                    break
            return collector.table(columns, types)

        return await self.run(work, limits.timeout_s)

    async def introspect(self, samples: int, *, schema: str | None = None) -> list[TableInfo]:
        return await self.run(lambda cursor: _introspect(cursor, samples, schema), INTROSPECTION_TIMEOUT_S)

    async def test(self, started: float) -> DatasourceTest:
        def work(cursor: duckdb.DuckDBPyConnection) -> DatasourceTest:
            row = cursor.execute("SELECT version()").fetchone()
            count = cursor.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE NOT internal AND NOT temporary"
            ).fetchone()
            views = cursor.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone()
            return DatasourceTest(
                ok=True,
                latency_ms=(time.perf_counter() - started) * 1000,
                server=f"DuckDB {row[0] if row else ''}",
                tables=int(count[0] if count else 0) + int(views[0] if views else 0),
            )

        return await self.run(work, 10.0)

    def close(self) -> None:
        if self.database is not None:
            self.database.close()
            self.database = None


def _introspect(cursor: duckdb.DuckDBPyConnection, samples: int, schema: str | None) -> list[TableInfo]:
    main = cursor.execute("SELECT current_schema()").fetchone()
    default_schema = str(main[0]) if main else "main"
    where = "NOT internal AND NOT temporary" + (" AND schema_name = $schema" if schema else "")
    args: dict[str, Any] = {"schema": schema} if schema else {}
    objects = cursor.execute(
        f"SELECT schema_name, table_name, 'table', coalesce(comment, ''), estimated_size FROM duckdb_tables() "
        f"WHERE {where} UNION ALL SELECT schema_name, view_name, 'view', coalesce(comment, ''), NULL "
        f"FROM duckdb_views() WHERE {where} ORDER BY 1, 2",
        args or None,
    ).fetchall()
    columns_of: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for row in cursor.execute(
        "SELECT schema_name, table_name, column_name, data_type, is_nullable, coalesce(comment, '') "
        "FROM duckdb_columns() WHERE NOT internal ORDER BY schema_name, table_name, column_index"
    ).fetchall():
        columns_of.setdefault((row[0], row[1]), []).append(row)
    primary: dict[tuple[str, str], set[str]] = {}
    references: dict[tuple[str, str, str], str] = {}
    for kind, sch, table, cols, ref_table, ref_cols in cursor.execute(
        "SELECT constraint_type, schema_name, table_name, constraint_column_names, referenced_table, "
        "referenced_column_names FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')"
    ).fetchall():
        if kind == "PRIMARY KEY":
            primary.setdefault((sch, table), set()).update(cols)
        else:
            for col, ref in zip(cols, ref_cols or [], strict=False):
                references[(sch, table, col)] = f"{ref_table}.{ref}"
    tables: list[TableInfo] = []
    for sch, table, kind, comment, estimate in objects:
        qualified = f"{quote_ident(sch)}.{quote_ident(table)}"
        name = table if sch == default_schema else f"{sch}.{table}"
        row_count: int | None = int(estimate) if estimate is not None else None
        if kind == "table" and (row_count is None or row_count < EXACT_COUNT_ROWS):
            counted = cursor.execute(f"SELECT count(*) FROM {qualified}").fetchone()
            row_count = int(counted[0]) if counted else None
        rows: list[tuple[Any, ...]] = []
        if samples > 0:
            rows = cursor.execute(f"SELECT * FROM {qualified} LIMIT {SAMPLE_SCAN_ROWS}").fetchall()
        columns: list[ColumnInfo] = []
        keys = primary.get((sch, table), set())
        for index, (_s, _t, column, data_type, nullable, col_comment) in enumerate(columns_of.get((sch, table), [])):
            columns.append(
                ColumnInfo(
                    name=column,
                    type=str(data_type),
                    nullable=bool(nullable) and column not in keys,
                    primary_key=column in keys,
                    references=references.get((sch, table, column)),
                    comment=col_comment,
                    samples=sample_values(column, str(data_type), (r[index] for r in rows), samples),
                )
            )
        tables.append(
            TableInfo(
                name=name,
                kind="view" if kind == "view" else "table",
                comment=comment,
                columns=columns,
                row_count=row_count,
            )
        )
    return tables


class DuckDBConnector:
    """A DuckDB database file (``config["path"]``), opened read-only on first use."""

    kind: DatasourceKind = "duckdb"
    dialect: str = "duckdb"

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        self.name = name
        self.path = str(config.get("path") or "")
        self._engine = DuckDBEngine(name)
        self._lock = asyncio.Lock()

    def _open(self) -> duckdb.DuckDBPyConnection:
        if not self.path:
            raise DatasourceError(
                f"data source {self.name!r}: no database file configured", extra={"reason": "connect"}
            )
        path = Path(self.path).expanduser()
        if not path.is_file():
            raise DatasourceError(
                f"data source {self.name!r}: the database file {self.path!r} does not exist",
                extra={"reason": "connect"},
            )
        try:
            return duckdb.connect(str(path.resolve()), read_only=True, config=dict(LOCKED_CONFIG))
        except duckdb.Error as exc:
            raise datasource_error(self.name, exc, reason="connect", action="opening the database") from exc

    async def _ready(self) -> DuckDBEngine:
        async with self._lock:
            if self._engine.database is None:
                self._engine.database = await asyncio.to_thread(self._open)
        return self._engine

    async def test(self) -> DatasourceTest:
        started = time.perf_counter()
        try:
            engine = await self._ready()
            return await engine.test(started)
        except DatasourceError as exc:
            return DatasourceTest(ok=False, latency_ms=(time.perf_counter() - started) * 1000, error=exc.detail)

    async def introspect(self, *, samples: int = 3) -> list[TableInfo]:
        return await (await self._ready()).introspect(samples)

    async def execute(self, sql: str, params: dict[str, Any] | None, limits: QueryLimits) -> Table:
        return await (await self._ready()).execute(sql, params, limits)

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._engine.close)
