"""Files (CSV, TSV, Parquet, JSON, JSON lines, Excel) as tables of an in-memory DuckDB, in worker threads.

On first use every configured file becomes a table: DuckDB reads CSV/TSV/Parquet/JSON itself, Excel workbooks
are read with openpyxl (one table per sheet, column types inferred from the cells). Then the database is locked
(``enable_external_access=false``, ``lock_configuration=true``): SQL cannot read or write any other file,
install extensions or undo the lock, and every query runs in a read-only transaction (``DuckDBEngine``), so the
loaded tables cannot change either. The files themselves are never opened for writing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import duckdb

from rivulet.data.connectors._common import datasource_error, quote_ident
from rivulet.data.connectors.duckdb import DuckDBEngine, lock_down
from rivulet.data.specs import FILE_FORMATS, DatasourceTest
from rivulet.knowledge._parsers import MAX_UNZIPPED_BYTES, MAX_ZIP_MEMBERS, MAX_ZIP_RATIO
from rivulet.lib.exceptions import DatasourceError

if TYPE_CHECKING:
    from rivulet.sdk.data import DatasourceKind, QueryLimits, TableInfo
    from rivulet.sdk.ports import Table

__all__ = ("FileConnector", "table_name")

_INSERT_BATCH = 500
MAX_SHEET_CELLS = 10_000_000
"""A worksheet with more cells (empty ones included) is refused: its rows are held in memory while loading."""
_READERS = {
    "csv": "read_csv($path, header = true)",
    "tsv": "read_csv($path, header = true, delim = '\t')",
    "parquet": "read_parquet($path)",
    "json": "read_json_auto($path)",
    "jsonl": "read_json_auto($path, format = 'newline_delimited')",
}
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}


def table_name(text: str) -> str:
    """A SQL-friendly table or column name from a file, sheet or header (``Sales 2024.csv`` → ``sales_2024``)."""
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", text.strip()).strip("_").lower()
    if not name:
        name = "t"
    if name[0].isdigit():
        name = "t_" + name
    return name[:63]


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}_{n}"
        n += 1
    taken.add(candidate)
    return candidate


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _cell_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None and v != ""]
    if not present:
        return "VARCHAR"
    if all(isinstance(v, bool) for v in present):
        return "BOOLEAN"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "BIGINT"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "DOUBLE"
    if all(isinstance(v, dt.datetime) for v in present):
        midnight = all(v.time() == dt.time(0) for v in present)
        return "DATE" if midnight else "TIMESTAMP"
    if all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in present):
        return "DATE"
    return "VARCHAR"


def _cell_value(value: Any, sql_type: str) -> Any:
    if value is None or value == "":
        return None
    if sql_type == "DATE" and isinstance(value, dt.datetime):
        return value.date()
    if sql_type == "VARCHAR" and not isinstance(value, str):
        return value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)
    return value


def _check_workbook(path: Path) -> None:
    """Refuse a workbook (a zip) that would expand too much, before openpyxl opens it.

    The knowledge loaders' limits (``MAX_UNZIPPED_BYTES``, ``MAX_ZIP_RATIO``, ``MAX_ZIP_MEMBERS``): a small upload
    cannot fill memory.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DatasourceError(f"{path.name}: not a valid xlsx file ({exc})", extra={"reason": "connect"}) from exc
    total = sum(member.file_size for member in members)
    bomb = next(
        (m for m in members if m.file_size > 1_000_000 and m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1)),
        None,
    )
    if len(members) > MAX_ZIP_MEMBERS or total > MAX_UNZIPPED_BYTES or bomb is not None:
        what = f": {bomb.filename} expands {bomb.file_size // max(bomb.compress_size, 1)}x" if bomb else ""
        raise DatasourceError(
            f"{path.name}: refusing a suspected zip bomb ({len(members)} members expanding to {total} bytes; limits "
            f"{MAX_ZIP_MEMBERS} members, {MAX_UNZIPPED_BYTES} bytes, ratio {MAX_ZIP_RATIO}){what}",
            extra={"reason": "connect"},
        )


def _sheet_rows(path: Path, sheet_name: str, rows_iter: Any) -> list[list[Any]]:
    """The non-empty rows of a sheet, refusing one of more than ``MAX_SHEET_CELLS`` cells (memory)."""
    rows: list[list[Any]] = []
    cells = 0
    for raw in rows_iter:
        row = list(raw)
        cells += len(row)
        if cells > MAX_SHEET_CELLS:
            raise DatasourceError(
                f"{path.name}: sheet {sheet_name!r} has more than {MAX_SHEET_CELLS:,} cells; export it as CSV",
                extra={"reason": "connect"},
            )
        if any(v is not None and v != "" for v in row):
            rows.append(row)
    return rows


def _load_workbook(
    db: duckdb.DuckDBPyConnection, path: Path, table: str | None, sheet: str | None, taken: set[str]
) -> None:
    from openpyxl import load_workbook

    _check_workbook(path)
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = [sheet] if sheet else list(book.sheetnames)
        for sheet_name in sheets:
            if sheet_name not in book.sheetnames:
                raise DatasourceError(f"{path.name}: no sheet named {sheet_name!r}", extra={"reason": "connect"})
            rows = _sheet_rows(path, sheet_name, book[sheet_name].iter_rows(values_only=True))
            if table and len(sheets) == 1:
                name = _unique(table, taken)
            elif table:
                name = _unique(f"{table}_{table_name(sheet_name)}", taken)
            else:
                name = _unique(table_name(sheet_name), taken)
            _create_from_rows(db, name, rows, f"sheet {sheet_name} of {path.name}")
    finally:
        book.close()


def _create_from_rows(db: duckdb.DuckDBPyConnection, name: str, rows: list[list[Any]], comment: str) -> None:
    header = rows[0] if rows else []
    width = max((len(r) for r in rows), default=0)
    columns: list[str] = []
    seen: set[str] = set()
    for i in range(width):
        label = header[i] if i < len(header) and header[i] not in (None, "") else f"column_{i + 1}"
        columns.append(_unique(table_name(str(label)), seen))
    body = [r + [None] * (width - len(r)) for r in rows[1:]]
    types = [_cell_type([r[i] for r in body]) for i in range(width)]
    if not columns:
        columns, types = ["column_1"], ["VARCHAR"]
    definition = ", ".join(f"{quote_ident(c)} {t}" for c, t in zip(columns, types, strict=True))
    db.execute(f"CREATE TABLE {quote_ident(name)} ({definition})")
    db.execute(f"COMMENT ON TABLE {quote_ident(name)} IS {_literal(comment)}")
    placeholders = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(body), _INSERT_BATCH):
        chunk = body[start : start + _INSERT_BATCH]
        values = [_cell_value(v, types[i]) for row in chunk for i, v in enumerate(row[: len(columns)])]
        db.execute(f"INSERT INTO {quote_ident(name)} VALUES " + ", ".join(placeholders for _ in chunk), values)


class FileConnector:
    """Files of a ``file`` data source (``config["files"]``: ``{"table", "path", "format", "sheet"}`` each)."""

    kind: DatasourceKind = "file"
    dialect: str = "duckdb"

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        self.name = name
        files: list[Any] = list(config.get("files") or [])
        self.files: list[dict[str, Any]] = [dict(cast("dict[str, Any]", f)) for f in files]
        self._engine = DuckDBEngine(name)
        self._lock = asyncio.Lock()

    def _load(self) -> duckdb.DuckDBPyConnection:
        if not self.files:
            raise DatasourceError(f"data source {self.name!r}: no files configured", extra={"reason": "connect"})
        db = duckdb.connect(
            ":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
        )
        taken: set[str] = set()
        try:
            for spec in self.files:
                self._load_file(db, spec, taken)
            lock_down(db)
        except DatasourceError:
            db.close()
            raise
        except (duckdb.Error, OSError, ValueError, KeyError) as exc:
            db.close()
            raise datasource_error(self.name, exc, reason="connect", action="loading the files") from exc
        return db

    def _load_file(self, db: duckdb.DuckDBPyConnection, spec: dict[str, Any], taken: set[str]) -> None:
        path = Path(str(spec.get("path") or "")).expanduser()
        if not path.is_file():
            raise DatasourceError(
                f"data source {self.name!r}: the file {path.name or '(none)'!r} does not exist",
                extra={"reason": "connect"},
            )
        fmt = str(spec.get("format") or _EXTENSIONS.get(path.suffix.lower(), ""))
        if fmt not in FILE_FORMATS:
            raise DatasourceError(
                f"data source {self.name!r}: {path.name!r} is not a supported file ({', '.join(FILE_FORMATS)})",
                extra={"reason": "connect"},
            )
        table = spec.get("table")
        if fmt == "xlsx":
            _load_workbook(db, path, table, spec.get("sheet"), taken)
            return
        name = _unique(str(table) if table else table_name(path.stem), taken)
        db.execute(f"CREATE TABLE {quote_ident(name)} AS SELECT * FROM {_READERS[fmt]}", {"path": str(path)})
        db.execute(f"COMMENT ON TABLE {quote_ident(name)} IS {_literal('file ' + path.name)}")

    async def _ready(self) -> DuckDBEngine:
        async with self._lock:
            if self._engine.database is None:
                self._engine.database = await asyncio.to_thread(self._load)
        return self._engine

    async def test(self) -> DatasourceTest:
        started = time.perf_counter()
        try:
            return await (await self._ready()).test(started)
        except DatasourceError as exc:
            return DatasourceTest(ok=False, latency_ms=(time.perf_counter() - started) * 1000, error=exc.detail)

    async def introspect(self, *, samples: int = 3) -> list[TableInfo]:
        return await (await self._ready()).introspect(samples)

    async def execute(self, sql: str, params: dict[str, Any] | None, limits: QueryLimits) -> Table:
        return await (await self._ready()).execute(sql, params, limits)

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._engine.close)
