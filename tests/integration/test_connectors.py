"""The five connectors against real databases: embedded PostgreSQL, a private MariaDB, SQLite and DuckDB files and
files queried through DuckDB. Each gets the same small shop (tests/integration/connectors_support.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from psycopg.conninfo import conninfo_to_dict

from rivulet.data.connectors import mysql as mysql_connector
from rivulet.data.connectors import normalise_type, open_connector
from rivulet.data.connectors.base import RowCollector, datasource_error, redact, sample_values
from rivulet.data.connectors.sqlite import SQLiteConnector, _authorizer, column_comments
from rivulet.lib.exceptions import DatasourceError
from rivulet.sdk.data import QueryLimits
from tests.integration.connectors_support import (
    PG_PASSWORD,
    Source,
    build_duckdb,
    build_files,
    build_sqlite,
    record,
    source_fixture,  # noqa: F401 - the session fixture
)
from tests.integration.mariadb_support import mariadb_fixture  # noqa: F401 - the session fixture

if TYPE_CHECKING:
    from pathlib import Path

    from tests.integration.mariadb_support import MariaDB

pytestmark = pytest.mark.postgres

SLOW_SQL = {
    "postgres": "SELECT pg_sleep(20)",
    "mysql": "SELECT SLEEP(20)",
    "sqlite": "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 2000000000) "
    "SELECT count(*) FROM r",
    "duckdb": "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 2000000000) "
    "SELECT count(*) FROM r",
}
SLOW_SQL["file"] = SLOW_SQL["duckdb"]

WRITES: dict[str, list[tuple[str, str]]] = {
    # (statement, a fragment of the database's own refusal)
    "postgres": [
        ("SELECT forget_orders()", "read-only transaction"),
        ("SELECT nextval('order_numbers')", "read-only transaction"),
        ("SELECT set_config('transaction_read_only', 'off', false)", "read-write"),
        ("DELETE FROM orders", "syntax error"),
        ("CREATE TABLE evil (a int)", "syntax error"),
    ],
    "mysql": [
        ("SELECT forget_orders()", "READ ONLY transaction"),
        ("SELECT 1; DELETE FROM orders", "syntax"),
        ("DELETE FROM orders", "only queries"),
        ("SHOW GRANTS", "only queries"),
    ],
    "sqlite": [
        ("DELETE FROM orders", "not authorized"),
        ("UPDATE customers SET name = 'x'", "not authorized"),
        ("CREATE TABLE evil (a INT)", "not authorized"),
        ("DROP TABLE numbers", "not authorized"),
        ("PRAGMA query_only = 0", "not authorized"),
    ],
    "duckdb": [
        ("DELETE FROM orders", "read-only"),
        ("UPDATE customers SET name = 'x'", "read-only"),
        ("CREATE TABLE evil (a INT)", "read-only"),
        ("DROP TABLE numbers", "read-only"),
        ("SELECT 1; DELETE FROM orders", "exactly one SQL statement"),
    ],
}
WRITES["file"] = WRITES["duckdb"]


async def rows_of(source: Source, sql: str, **limits: Any) -> list[list[Any]]:
    return (await source.connector.execute(sql, None, QueryLimits(**limits))).rows


async def test_test_reports_the_server(source: Source) -> None:
    result = await source.connector.test()
    assert result.ok, result.error
    assert result.error is None
    assert result.tables >= 5
    assert result.server.split()[0] in {"PostgreSQL", "MariaDB", "SQLite", "DuckDB"}
    assert result.latency_ms > 0


async def test_introspect_tables_keys_comments_counts_samples(source: Source) -> None:
    tables = {t.name: t for t in await source.connector.introspect(samples=3)}
    expected = {"customers", "products", "orders", "order_items", "numbers"}
    assert expected <= set(tables)
    customers = tables["customers"]
    columns = {c.name: c for c in customers.columns}
    assert list(columns)[:3] == ["id", "name", "email"]
    assert customers.row_count == 3
    assert tables["numbers"].row_count == 50
    assert set(columns["city"].samples) <= {"London", "Manchester", "New York"}
    assert len(columns["city"].samples) == 3
    assert columns["password_hash"].samples == []  # looks secret: never sampled
    assert normalise_type(columns["id"].type) == "integer"
    if source.kind == "file":
        assert tables["suppliers"].columns[0].name == "supplier"
        assert tables["customers"].comment == "file customers.csv"
        return
    assert tables["big_orders"].kind == "view"
    assert tables["big_orders"].row_count is None
    assert columns["id"].primary_key
    assert not columns["id"].nullable
    assert not columns["name"].nullable
    assert columns["email"].nullable
    assert normalise_type(columns["signed_up"].type) == "date"
    assert columns["name"].comment == "full name"
    assert columns["city"].comment == "home city"
    orders = {c.name: c for c in tables["orders"].columns}
    assert orders["customer_id"].references == "customers.id"
    assert orders["customer_id"].comment == "who ordered"
    items = {c.name: c for c in tables["order_items"].columns}
    assert items["product_id"].references == "products.id"
    assert normalise_type({c.name: c for c in tables["products"].columns}["price"].type) == "number"
    if source.kind != "sqlite":  # SQLite keeps no table comments
        assert customers.comment == "People who buy things"


async def test_execute_types_and_parameters(source: Source) -> None:
    p = source.placeholder("cid")
    sql = (
        "SELECT o.id, c.name, o.ordered_at, o.total FROM orders o JOIN customers c ON c.id = o.customer_id "
        f"WHERE o.customer_id = {p} ORDER BY o.id"
    )
    table = await source.connector.execute(sql, {"cid": 1}, QueryLimits())
    assert table.columns == ["id", "name", "ordered_at", "total"]
    date_type = "text" if source.kind == "sqlite" else "date"  # SQLite stores ISO text
    assert table.types == ["integer", "text", date_type, "number"]
    first_day = "2024-01-10" if source.kind == "sqlite" else dt.date(2024, 1, 10)
    assert table.rows == [[1, "Ada Lovelace", first_day, 69.49], [2, "Ada Lovelace", table.rows[1][2], 199.0]]
    assert not table.truncated
    msgspec.json.encode(table)  # JSON-ready (Decimal → number, dates → ISO)


@pytest.mark.parametrize("source", ["postgres", "mysql"], indirect=True)
async def test_percent_signs_with_and_without_parameters(source: Source) -> None:
    """Without parameters the text goes as it is; with them a literal % is doubled (guard.render_params does)."""
    plain = await source.connector.execute(
        "SELECT name FROM customers WHERE name LIKE 'A%' ORDER BY id", None, QueryLimits()
    )
    assert plain.rows == [["Ada Lovelace"], ["Alan Turing"]]
    bound = await source.connector.execute(
        "SELECT name FROM customers WHERE name LIKE 'A%%' AND id > %(after)s ORDER BY id", {"after": 1}, QueryLimits()
    )
    assert bound.rows == [["Alan Turing"]]


async def test_empty_result_keeps_columns(source: Source) -> None:
    table = await source.connector.execute("SELECT id, name FROM customers WHERE id < 0", None, QueryLimits())
    assert table.columns == ["id", "name"]
    assert table.rows == []
    assert not table.truncated


async def test_row_cap_truncates(source: Source) -> None:
    table = await source.connector.execute("SELECT n FROM numbers ORDER BY n", None, QueryLimits(max_rows=10))
    assert table.rows == [[n] for n in range(1, 11)]
    assert table.truncated
    exact = await source.connector.execute("SELECT n FROM numbers ORDER BY n", None, QueryLimits(max_rows=50))
    assert len(exact.rows) == 50
    assert not exact.truncated
    assert (await source.connector.execute("SELECT n FROM numbers", None, QueryLimits(max_rows=49))).truncated


async def test_byte_cap_truncates(source: Source) -> None:
    pad = "x" * 100
    table = await source.connector.execute(
        f"SELECT n, '{pad}' AS pad FROM numbers ORDER BY n", None, QueryLimits(max_bytes=1024)
    )
    assert table.truncated
    assert 5 <= len(table.rows) < 10
    assert len(msgspec.json.encode(table.rows)) <= 1024
    with pytest.raises(DatasourceError) as caught:
        await source.connector.execute(f"SELECT '{'y' * 1500}' AS big", None, QueryLimits(max_bytes=1024))
    assert caught.value.extra["reason"] == "byte_cap"


async def test_statement_timeout(source: Source) -> None:
    started = time.monotonic()
    with pytest.raises(DatasourceError) as caught:
        await source.connector.execute(SLOW_SQL[source.kind], None, QueryLimits(timeout_s=0.5))
    elapsed = time.monotonic() - started
    assert caught.value.extra["reason"] == "timeout"
    assert "0.5 s" in caught.value.detail
    assert elapsed < 4.5, elapsed
    # the connector is still usable afterwards
    assert await rows_of(source, "SELECT count(*) FROM customers") == [[3]]


async def test_writes_are_refused_by_the_database(source: Source) -> None:
    before = {t: await rows_of(source, f"SELECT * FROM {t}") for t in ("customers", "orders", "numbers")}
    for statement, refusal in WRITES[source.kind]:
        with pytest.raises(DatasourceError) as caught:
            await source.connector.execute(statement, None, QueryLimits(timeout_s=5))
        assert caught.value.extra["reason"] == "query", statement
        assert refusal.lower() in caught.value.detail.lower(), (statement, caught.value.detail)
    after = {t: await rows_of(source, f"SELECT * FROM {t}") for t in ("customers", "orders", "numbers")}
    assert after == before
    names = {t.name for t in await source.connector.introspect(samples=0)}
    assert "evil" not in names
    assert "numbers" in names


async def test_errors_name_the_source_and_never_the_password(source: Source) -> None:
    with pytest.raises(DatasourceError) as caught:
        await source.connector.execute("SELECT no_such_column FROM customers", None, QueryLimits())
    assert caught.value.extra["reason"] == "query"
    assert f"data source {source.record.name!r}" in caught.value.detail
    if source.password:
        assert source.password not in caught.value.detail


@pytest.mark.parametrize("kind", ["sqlite", "duckdb", "file"])
async def test_blocking_drivers_leave_the_event_loop_free(kind: str, tmp_path: Path) -> None:
    if kind == "sqlite":
        config: dict[str, Any] = {"path": str(build_sqlite(tmp_path / "shop.sqlite"))}
    elif kind == "duckdb":
        config = {"path": str(build_duckdb(tmp_path / "shop.duckdb"))}
    else:
        config = {"files": build_files(tmp_path / "files")}
    connector = open_connector(record(kind, config), None)  # type: ignore[arg-type]
    assert (await connector.test()).ok
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        with pytest.raises(DatasourceError):
            await connector.execute(SLOW_SQL[kind], None, QueryLimits(timeout_s=0.6))
    finally:
        task.cancel()
        await connector.close()
    assert ticks >= 20  # about 60 while the query ran in its thread


# --- kind-specific -----------------------------------------------------------------------------------------------


async def test_sqlite_file_is_read_only_even_without_the_other_guards(tmp_path: Path) -> None:
    """``mode=ro`` alone refuses writes: drop the authorizer and query_only, the pager still says no."""
    path = build_sqlite(tmp_path / "shop.sqlite")
    connector = SQLiteConnector("raw", {"path": str(path)})
    from rivulet.data.connectors.sqlite import _Deadline

    conn = connector._connect(_Deadline(5))
    try:
        conn.set_authorizer(None)
        conn.execute("PRAGMA query_only = 0")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM orders")
    finally:
        conn.close()
    check = sqlite3.connect(path)
    assert check.execute("SELECT count(*) FROM orders").fetchone() == (5,)
    check.close()


async def test_sqlite_attach_is_refused_and_creates_no_file(tmp_path: Path) -> None:
    path = build_sqlite(tmp_path / "shop.sqlite")
    connector = SQLiteConnector("s", {"path": str(path)})
    target = tmp_path / "evil.db"
    with pytest.raises(DatasourceError, match="not authorized"):
        await connector.execute(f"ATTACH DATABASE '{target}' AS evil", None, QueryLimits())
    assert not target.exists()


def test_sqlite_authorizer_allows_reads_only() -> None:
    assert _authorizer(sqlite3.SQLITE_SELECT, None, None, None, None) == sqlite3.SQLITE_OK
    assert _authorizer(sqlite3.SQLITE_READ, "t", "c", "main", None) == sqlite3.SQLITE_OK
    assert _authorizer(sqlite3.SQLITE_PRAGMA, "table_info", "t", None, None) == sqlite3.SQLITE_OK
    assert _authorizer(sqlite3.SQLITE_PRAGMA, "journal_mode", "wal", None, None) == sqlite3.SQLITE_DENY
    assert _authorizer(sqlite3.SQLITE_FUNCTION, None, "load_extension", None, None) == sqlite3.SQLITE_DENY
    for action in (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_CREATE_TEMP_TABLE):
        assert _authorizer(action, "t", None, "main", None) == sqlite3.SQLITE_DENY


async def test_missing_files_are_a_failed_test_not_a_raise(tmp_path: Path) -> None:
    for kind, config in [
        ("sqlite", {"path": str(tmp_path / "nope.sqlite")}),
        ("duckdb", {"path": str(tmp_path / "nope.duckdb")}),
        ("file", {"files": [{"path": str(tmp_path / "nope.csv")}]}),
        ("file", {"files": [{"path": str(tmp_path)}]}),
    ]:
        connector = open_connector(record(kind, config), None)  # type: ignore[arg-type]
        result = await connector.test()
        assert not result.ok
        assert result.error is not None
        assert "does not exist" in result.error
        await connector.close()


async def test_file_of_unknown_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    connector = open_connector(record("file", {"files": [{"path": str(tmp_path / "notes.txt")}]}), None)
    result = await connector.test()
    assert not result.ok
    assert "not a supported file" in (result.error or "")


async def test_workbook_sheets_become_typed_tables(tmp_path: Path) -> None:
    files = build_files(tmp_path)
    xlsx = next(f["path"] for f in files if f["path"].endswith(".xlsx"))
    connector = open_connector(record("file", {"files": [{"path": xlsx}]}), None)
    try:
        tables = {t.name: t for t in await connector.introspect()}
        assert set(tables) == {"products", "suppliers"}
        assert tables["products"].comment == "sheet products of products.xlsx"
        assert [(c.name, c.type) for c in tables["products"].columns] == [
            ("id", "BIGINT"),
            ("name", "VARCHAR"),
            ("price", "DOUBLE"),
        ]
        assert [(c.name, c.type) for c in tables["suppliers"].columns] == [("supplier", "VARCHAR"), ("since", "DATE")]
        table = await connector.execute("SELECT name FROM products WHERE price > 40 ORDER BY id", None, QueryLimits())
        assert table.rows == [["Keyboard"], ["Monitor"]]
    finally:
        await connector.close()


async def test_json_array_and_odd_file_names(tmp_path: Path) -> None:
    data = tmp_path / "Sales 2024 (EU).json"
    data.write_text('[{"region": "north", "amount": 10.5, "day": "2024-01-02"}, {"region": "south", "amount": 4}]')
    connector = open_connector(record("file", {"files": [{"path": str(data)}]}), None)
    try:
        tables = await connector.introspect()
        assert [t.name for t in tables] == ["sales_2024_eu"]
        table = await connector.execute(
            "SELECT region, amount FROM sales_2024_eu WHERE amount > $min ORDER BY region", {"min": 1}, QueryLimits()
        )
        assert table.rows == [["north", 10.5], ["south", 4.0]]
        assert table.types == ["text", "number"]
    finally:
        await connector.close()


async def test_files_cannot_reach_other_files(tmp_path: Path) -> None:
    files = build_files(tmp_path / "in")
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nhunter2\n")
    connector = open_connector(record("file", {"files": files[:1]}), None)
    try:
        for sql in (
            f"SELECT * FROM read_csv('{secret}')",
            f"SELECT * FROM '{secret}'",
            f"COPY customers TO '{tmp_path / 'out.csv'}'",
            "SET enable_external_access = true",
        ):
            with pytest.raises(DatasourceError) as caught:
                await connector.execute(sql, None, QueryLimits())
            assert "hunter2" not in caught.value.detail
        assert not (tmp_path / "out.csv").exists()
    finally:
        await connector.close()


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
async def test_mysql_server_refuses_writes_without_the_query_filter(
    source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the connector's first-keyword filter off, MariaDB's read-only transaction still refuses every write."""
    monkeypatch.setattr(mysql_connector, "_first_word", lambda _sql: "select")
    before = await rows_of(source, "SELECT count(*) FROM orders")
    for statement in (
        "DELETE FROM orders",
        "UPDATE customers SET name = 'x'",
        "CREATE TABLE evil (a INT)",
        "DROP TABLE numbers",
        "CREATE TEMPORARY TABLE t (a INT)",
        "TRUNCATE orders",
        "ALTER TABLE customers ADD COLUMN x INT",
        "GRANT SELECT ON shop.* TO 'rivulet'@'localhost'",
    ):
        with pytest.raises(DatasourceError, match="READ ONLY transaction"):
            await source.connector.execute(statement, None, QueryLimits())
    with pytest.raises(DatasourceError, match="FILE privilege"):
        await source.connector.execute("SELECT * FROM customers INTO OUTFILE '/tmp/rivulet_x.txt'", None, QueryLimits())
    assert await rows_of(source, "SELECT count(*) FROM orders") == before


async def test_mysql_wrong_password_is_reported_without_it(mariadb: MariaDB) -> None:
    wrong = "wrong-Password-123"
    connector = open_connector(record("mysql", mariadb.config()), wrong)
    result = await connector.test()
    assert not result.ok
    assert "Access denied" in (result.error or "")
    assert wrong not in (result.error or "")
    with pytest.raises(DatasourceError) as caught:
        await connector.execute("SELECT 1", None, QueryLimits())
    assert caught.value.extra["reason"] == "connect"
    assert wrong not in caught.value.detail
    assert mariadb.password not in caught.value.detail


async def test_mysql_over_the_unix_socket(mariadb: MariaDB) -> None:
    connector = open_connector(record("mysql", {**mariadb.config(), "host": mariadb.socket}), mariadb.password)
    result = await connector.test()
    assert result.ok, result.error
    assert result.server.startswith("MariaDB 1")


async def test_postgres_unreachable_is_reported_without_the_password(tmp_path: Path) -> None:
    password = "pg-Unreachable-Secret"
    config = {"host": str(tmp_path), "port": 5999, "database": "x", "user": "nobody"}
    connector = open_connector(record("postgres", config), password)
    result = await connector.test()
    assert not result.ok
    assert "connect failed" in (result.error or "")
    assert password not in (result.error or "")


async def test_postgres_wrong_database_fails_cleanly(pg_url: str) -> None:
    server = conninfo_to_dict(pg_url)
    config = {"host": server.get("host"), "port": int(server.get("port") or 5432), "database": "no_such_db"}
    connector = open_connector(record("postgres", config), PG_PASSWORD)
    result = await connector.test()
    assert not result.ok
    assert "no_such_db" in (result.error or "")
    assert PG_PASSWORD not in (result.error or "")


# --- base helpers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("db_type", "expected"),
    [
        ("integer", "integer"),
        ("BIGINT", "integer"),
        ("int(11) unsigned", "integer"),
        ("serial", "integer"),
        ("tinyint(1)", "boolean"),
        ("boolean", "boolean"),
        ("BOOL", "boolean"),
        ("numeric(10,2)", "number"),
        ("DECIMAL(10,2)", "number"),
        ("double precision", "number"),
        ("REAL", "number"),
        ("float8", "number"),
        ("money", "number"),
        ("character varying(40)", "text"),
        ("VARCHAR", "text"),
        ("text", "text"),
        ("uuid", "text"),
        ("enum('a','b')", "text"),
        ("time without time zone", "text"),
        ("date", "date"),
        ("DATE", "date"),
        ("timestamp with time zone", "datetime"),
        ("datetime", "datetime"),
        ("TIMESTAMP", "datetime"),
        ("timestamptz", "datetime"),
        ("jsonb", "json"),
        ("integer[]", "json"),
        ("STRUCT(a INTEGER)", "json"),
        ("INTEGER[]", "json"),
        ("bytea", "unknown"),
        ("BLOB", "unknown"),
        ("", "unknown"),
        ("geometry", "unknown"),
    ],
)
def test_normalise_type(db_type: str, expected: str) -> None:
    assert normalise_type(db_type) == expected


def test_redact_removes_passwords_and_dsn_credentials() -> None:
    text = "failed: postgresql://bob:s3cr3t@db:5432/x and host=db password=s3cr3t and mysql://a:b@h"
    cleaned = redact(text, "s3cr3t")
    assert "s3cr3t" not in cleaned
    assert "postgresql://bob:***@db" in cleaned
    assert "mysql://a:***@h" in cleaned
    error = datasource_error("ds", RuntimeError("password=hunter2 rejected"), reason="connect", password=None)
    assert "hunter2" not in error.detail
    assert error.extra == {"reason": "connect"}


def test_samples_skip_secrets_long_texts_and_duplicates() -> None:
    assert sample_values("password_hash", "text", ["a", "b"], 3) == []
    assert sample_values("api_token", "varchar", ["a"], 3) == []
    assert sample_values("city", "text", ["x" * 200, "Oslo", "Oslo", None, "Rome", "Lima", "Kyiv"], 3) == [
        "Oslo",
        "Rome",
        "Lima",
    ]
    assert sample_values("day", "date", [dt.date(2024, 1, 2)], 3) == ["2024-01-02"]
    assert sample_values("doc", "jsonb", [{"a": 1}], 3) == []


def test_row_collector_counts_json_bytes() -> None:
    collector = RowCollector(QueryLimits(max_rows=100, max_bytes=1024))
    assert collector.add_many([[i, "z" * 90] for i in range(5)])
    assert not collector.add_many([[i, "z" * 90] for i in range(20)])
    assert collector.truncated
    table = collector.table(["i", "z"], [])
    assert table.types == ["integer", "text"]
    assert len(msgspec.json.encode(table.rows)) <= 1024


def test_column_comments_from_sqlite_ddl() -> None:
    ddl = 'CREATE TABLE t (\n  id INTEGER PRIMARY KEY, -- the id\n  "name" TEXT, -- a name\n  x INT\n)'
    assert column_comments(ddl) == {"id": "the id", "name": "a name"}
