"""SQLite files, opened read-only by SQLite itself, in a worker thread.

Read-only at three levels inside SQLite: the file is opened through a ``file:...?mode=ro`` URI (the pager
refuses writes), ``PRAGMA query_only=1`` is set, and an authorizer lets only reads through (no ATTACH, no
PRAGMA assignments, no writes, no ``load_extension``). Python's ``sqlite3`` runs one statement per call. A
progress handler stops a statement at its deadline (``timeout_s``) or when the awaiting task is cancelled.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rivulet.data.connectors._common import (
    EXACT_COUNT_ROWS,
    SAMPLE_SCAN_ROWS,
    RowCollector,
    datasource_error,
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

_T = TypeVar("_T")

__all__ = ("SQLiteConnector", "column_comments")

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
_READ_PRAGMAS = {
    "table_info",
    "table_xinfo",
    "table_list",
    "foreign_key_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "collation_list",
    "database_list",
    "function_list",
    "page_count",
    "page_size",
}
_DENIED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "fts5", "zipfile"}
_PROGRESS_STEPS = 20_000
_MAX_LENGTH = 64 << 20
"""The longest string or blob a statement may build (``SQLITE_LIMIT_LENGTH``; queries lower it to max_bytes)."""


def _authorizer(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    if action in _ALLOWED_ACTIONS:
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _READ_PRAGMAS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class _Deadline:
    """Ends a running statement (progress handler) at a time or on request."""

    def __init__(self, timeout_s: float) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.cancelled = threading.Event()
        self.expired = False

    def __call__(self) -> int:
        if self.cancelled.is_set():
            return 1
        if time.monotonic() > self.deadline:
            self.expired = True
            return 1
        return 0


_COLUMN_COMMENT = re.compile(r"^\s*[\"`\[]?(?P<name>[^\"`\]\s,(]+)[\"`\]]?\s.*?--\s*(?P<comment>.+?)\s*$")


def column_comments(create_sql: str) -> dict[str, str]:
    """``-- comments`` after column definitions in a ``CREATE TABLE`` (SQLite keeps the text as written)."""
    comments: dict[str, str] = {}
    for line in create_sql.splitlines()[1:]:
        match = _COLUMN_COMMENT.match(line)
        if match and match["name"].upper() not in {"PRIMARY", "FOREIGN", "UNIQUE", "CHECK", "CONSTRAINT"}:
            comments[match["name"]] = match["comment"]
    return comments


class SQLiteConnector:
    """A SQLite database file (``config["path"]``)."""

    kind: DatasourceKind = "sqlite"
    dialect: str = "sqlite"

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        self.name = name
        self.path = str(config.get("path") or "")

    def _connect(self, deadline: _Deadline, max_length: int = _MAX_LENGTH) -> sqlite3.Connection:
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
        uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=2.0, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise datasource_error(self.name, exc, reason="connect", action="connect") from exc
        try:
            conn.execute("PRAGMA query_only = 1")
            conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_length)
            conn.set_authorizer(_authorizer)
            conn.set_progress_handler(deadline, _PROGRESS_STEPS)
        except BaseException:
            conn.close()
            raise
        return conn

    async def _run(self, work: Callable[[_Deadline], _T], timeout_s: float) -> _T:
        deadline = _Deadline(timeout_s)
        try:
            return await asyncio.to_thread(work, deadline)
        except asyncio.CancelledError:
            deadline.cancelled.set()
            raise

    async def test(self) -> DatasourceTest:
        started = time.perf_counter()

        def work(deadline: _Deadline) -> DatasourceTest:
            conn = self._connect(deadline)
            try:
                version = conn.execute("SELECT sqlite_version()").fetchone()[0]
                tables = conn.execute(
                    "SELECT count(*) FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
                ).fetchone()[0]
            finally:
                conn.close()
            return DatasourceTest(
                ok=True,
                latency_ms=(time.perf_counter() - started) * 1000,
                server=f"SQLite {version}",
                tables=int(tables),
            )

        try:
            return await self._run(work, 10.0)
        except (DatasourceError, sqlite3.Error) as exc:
            detail = (
                exc.detail
                if isinstance(exc, DatasourceError)
                else datasource_error(self.name, exc, reason="connect").detail
            )
            return DatasourceTest(ok=False, latency_ms=(time.perf_counter() - started) * 1000, error=detail)

    async def introspect(self, *, samples: int = 3) -> list[TableInfo]:
        def work(deadline: _Deadline) -> list[TableInfo]:
            conn = self._connect(deadline)
            try:
                return _introspect(conn, samples)
            except sqlite3.Error as exc:
                if deadline.expired:
                    raise timeout_error(self.name, 60.0) from exc
                raise datasource_error(self.name, exc, reason="query", action="introspection") from exc
            finally:
                conn.close()

        return await self._run(work, 60.0)

    async def execute(self, sql: str, params: dict[str, Any] | None, limits: QueryLimits) -> Table:
        def work(deadline: _Deadline) -> Table:
            conn = self._connect(deadline, max_length=min(_MAX_LENGTH, limits.max_bytes + 1024))
            try:
                cursor = conn.execute(sql, params or {})
                if cursor.description is None:
                    return RowCollector(limits).table([], [])
                columns = [str(d[0]) for d in cursor.description]
                collector = RowCollector(limits)
                while rows := cursor.fetchmany(collector.want):
                    if not collector.add_many(rows):
                        break
                return collector.table(columns, [])
            except sqlite3.Error as exc:
                if deadline.expired:
                    raise timeout_error(self.name, limits.timeout_s) from exc
                if isinstance(exc, sqlite3.DataError) or "too big" in str(exc):
                    raise datasource_error(self.name, exc, reason="byte_cap") from exc
                raise datasource_error(self.name, exc, reason="query") from exc
            finally:
                conn.close()

        return await self._run(work, limits.timeout_s)

    async def close(self) -> None:
        return None


def _introspect(conn: sqlite3.Connection, samples: int) -> list[TableInfo]:
    objects = conn.execute(
        "SELECT type, name, coalesce(sql, '') FROM sqlite_schema "
        "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    primary: dict[str, list[str]] = {}
    infos: dict[str, list[tuple[Any, ...]]] = {}
    for _kind, name, _sql in objects:
        infos[name] = conn.execute(f"PRAGMA table_info({quote_ident(name)})").fetchall()
        primary[name] = [row[1] for row in sorted(infos[name], key=lambda r: r[5]) if row[5]]
    tables: list[TableInfo] = []
    for kind, name, create_sql in objects:
        references: dict[str, str] = {}
        if kind == "table":
            for fk in conn.execute(f"PRAGMA foreign_key_list({quote_ident(name)})").fetchall():
                target, source, column = fk[2], fk[3], fk[4]
                if column is None:
                    keys = primary.get(target) or ["rowid"]
                    column = keys[min(int(fk[1]), len(keys) - 1)]
                references[source] = f"{target}.{column}"
        comments = column_comments(create_sql)
        quoted = quote_ident(name)
        row_count: int | None = None
        if kind == "table":  # views are not counted (running them can cost anything)
            count = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM {quoted} LIMIT {EXACT_COUNT_ROWS})").fetchone()[
                0
            ]
            row_count = int(count)
            if row_count >= EXACT_COUNT_ROWS:  # an estimate: the largest rowid
                row_count = max(row_count, int(conn.execute(f"SELECT max(rowid) FROM {quoted}").fetchone()[0] or 0))
        cursor = conn.execute(f"SELECT * FROM {quoted} LIMIT {SAMPLE_SCAN_ROWS}")
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        columns: list[ColumnInfo] = []
        for cid, column, db_type, notnull, _default, pk in infos[name]:
            index = names.index(column) if column in names else cid
            columns.append(
                ColumnInfo(
                    name=column,
                    type=db_type or "",
                    nullable=not notnull and not pk,
                    primary_key=bool(pk),
                    references=references.get(column),
                    comment=comments.get(column, ""),
                    samples=sample_values(column, db_type or "", (row[index] for row in rows), samples),
                )
            )
        tables.append(
            TableInfo(name=name, kind="view" if kind == "view" else "table", columns=columns, row_count=row_count)
        )
    return tables
