"""The guard's output runs on the real engines: every benign query, rewritten for each dialect, gives the same rows.

The benign corpus (tests/fixtures/sql/benign.jsonl) is guarded into postgres, mysql, sqlite and duckdb and run on
the embedded PostgreSQL, the test MariaDB, SQLite and DuckDB, all holding the same shop data; every engine must
return DuckDB's rows. Where sqlglot cannot translate a query for an engine the gap is listed here with its reason.
"""

from __future__ import annotations

import datetime
import decimal
import re
import sqlite3
import uuid
from typing import TYPE_CHECKING, Any, cast

import duckdb
import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from rivulet.data.guard import guard_sql, render_params
from tests.integration.mariadb_support import mariadb_fixture  # noqa: F401 - the session fixture
from tests.unit.data.test_guard import BENIGN, PARAMS, SHOP, SHOP_ROWS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.integration.mariadb_support import MariaDB

DDL = (
    (
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, email VARCHAR(80),"
        " city VARCHAR(40), country VARCHAR(2), created_at DATE)"
    ),
    (
        "CREATE TABLE products (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, category VARCHAR(20),"
        " price DECIMAL(10,2))"
    ),
    (
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, status VARCHAR(20), ordered_at DATE,"
        " total DECIMAL(10,2))"
    ),
    "CREATE TABLE order_items (order_id INTEGER, product_id INTEGER, quantity INTEGER, unit_price DECIMAL(10,2))",
)

KNOWN_GAPS: dict[tuple[str, str], str] = {
    ("SELECT date_trunc('month'", "sqlite"): "sqlglot writes TIMESTAMP_TRUNC, which SQLite does not have",
    ("SELECT YEAR(ordered_at)", "sqlite"): "sqlglot keeps YEAR(), which SQLite does not have",
    ("SELECT extract(year FROM", "sqlite"): "sqlglot keeps EXTRACT, which SQLite does not have",
}


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()[:10]
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return round(float(value), 4)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00", value):
        return value[:10]  # MySQL's emulation of date_trunc gives a DATETIME string
    return value


def _rows(rows: list[tuple[Any, ...]] | tuple[tuple[Any, ...], ...]) -> list[tuple[Any, ...]]:
    return sorted((tuple(_normalise(v) for v in row) for row in rows), key=repr)


def _fill(execute: Callable[..., Any], mark: str) -> None:
    for ddl in DDL:
        execute(ddl, None)
    for table, rows in SHOP_ROWS.items():
        for row in rows:
            execute(f"INSERT INTO {table} VALUES ({', '.join([mark] * len(row))})", row)


@pytest.fixture(scope="module")
def engines(pg_url: str, mariadb: MariaDB) -> Iterator[Callable[[str, str], list[tuple[Any, ...]]]]:
    """``run(dialect, guarded_sql)``: the normalised rows of the query on that engine (shop data loaded)."""
    name = f"guard_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        cast("Any", admin).execute(f"CREATE DATABASE {name}")
    pg: Any = psycopg.connect(make_conninfo(pg_url, dbname=name), autocommit=True)
    _fill(pg.execute, "%s")
    mariadb.admin([f"CREATE DATABASE {name}"])
    maria = mariadb.root(name)
    with maria.cursor() as cursor:
        _fill(cursor.execute, "%s")
    maria.commit()
    lite = sqlite3.connect(":memory:")
    _fill(lambda sql, args: lite.execute(sql, args or ()), "?")
    duck = duckdb.connect(":memory:")
    _fill(duck.execute, "?")

    def on_mysql(sql: str, params: dict[str, Any] | None) -> list[tuple[Any, ...]]:
        with maria.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    runners: dict[str, Callable[[str, dict[str, Any] | None], Any]] = {
        "postgres": lambda sql, params: pg.execute(sql, params).fetchall(),
        "mysql": on_mysql,
        "sqlite": lambda sql, params: lite.execute(sql, params or ()).fetchall(),
        "duckdb": lambda sql, params: duck.execute(sql, params).fetchall(),
    }

    def run(dialect: str, sql: str) -> list[tuple[Any, ...]]:
        rendered, params = render_params(sql, dialect, PARAMS if ":customer_id" in sql else None)
        return _rows(runners[dialect](rendered, params))

    try:
        yield run
    finally:
        pg.close()
        maria.close()
        with psycopg.connect(pg_url, autocommit=True) as admin:
            cast("Any", admin).execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        mariadb.admin([f"DROP DATABASE IF EXISTS {name}"])


def _gap(sql: str, dialect: str) -> str | None:
    return next(
        (why for (start, engine), why in KNOWN_GAPS.items() if sql.startswith(start) and engine == dialect), None
    )


@pytest.mark.parametrize("row", BENIGN, ids=[f"{i}-{r['dialect']}" for i, r in enumerate(BENIGN)])
def test_benign_queries_give_the_same_rows_on_every_engine(
    engines: Callable[[str, str], list[tuple[Any, ...]]], row: dict[str, str]
) -> None:
    reference = engines(
        "duckdb", guard_sql(row["sql"], dialect="duckdb", source_dialect=row["dialect"], schema=SHOP, max_rows=100).sql
    )
    for dialect in ("postgres", "mysql", "sqlite"):
        guarded = guard_sql(row["sql"], dialect=dialect, source_dialect=row["dialect"], schema=SHOP, max_rows=100)
        gap = _gap(row["sql"], dialect)
        if gap is not None:
            with pytest.raises(sqlite3.Error):  # every gap is SQLite's
                engines(dialect, guarded.sql)
            continue
        assert engines(dialect, guarded.sql) == reference, (dialect, guarded.sql)
