"""A small shop in each kind of data source, for the connector tests (test_connectors, test_hostile_database).

Tables: ``customers`` (with a ``password_hash`` column that must never be sampled), ``products``, ``orders``
(foreign key to customers), ``order_items`` (foreign keys to orders and products), ``numbers`` (1..50), and the
view ``big_orders``. Comments on ``customers`` and some columns, in each database's own syntax. ``fingerprint``
reads every table back (counts and contents) to prove that nothing changed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from rivulet.data.connectors import Connector, open_connector
from rivulet.sdk.data import DatasourceKind, QueryLimits
from rivulet.storage.base import DatasourceRecord

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.integration.mariadb_support import MariaDB

KINDS: tuple[DatasourceKind, ...] = ("postgres", "mysql", "sqlite", "duckdb", "file")
TABLES = ("customers", "numbers", "order_items", "orders", "products")
PG_PASSWORD = "pg-Secret-pw-77aa"

CUSTOMERS = [
    (1, "Ada Lovelace", "ada@example.com", "$2b$12$abcdefhashA", "London", dt.date(2023, 1, 5)),
    (2, "Alan Turing", "alan@example.com", "$2b$12$abcdefhashB", "Manchester", dt.date(2023, 3, 9)),
    (3, "Grace Hopper", "grace@example.com", "$2b$12$abcdefhashC", "New York", dt.date(2024, 2, 1)),
]
PRODUCTS = [(1, "Keyboard", 49.5), (2, "Mouse", 19.99), (3, "Monitor", 199.0)]
ORDERS = [
    (1, 1, dt.date(2024, 1, 10), 69.49, True),
    (2, 1, dt.date(2024, 2, 11), 199.0, True),
    (3, 2, dt.date(2024, 3, 12), 19.99, False),
    (4, 3, dt.date(2024, 4, 13), 248.5, True),
    (5, 3, dt.date(2024, 5, 14), 49.5, False),
]
ORDER_ITEMS = [(1, 1, 1), (1, 2, 1), (2, 3, 1), (3, 2, 1), (4, 3, 1), (4, 1, 1), (5, 1, 1)]
NUMBERS = [(n,) for n in range(1, 51)]

# One DDL per dialect: {pk} integer primary key, {c:...} an inline column comment where the dialect has one.
_DDL = [
    """CREATE TABLE customers (
    id INTEGER PRIMARY KEY, -- customer identifier
    name VARCHAR(60) NOT NULL, -- full name
    email VARCHAR(120),
    password_hash VARCHAR(100),
    city VARCHAR(40), -- home city
    signed_up DATE
)""",
    """CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name VARCHAR(60) NOT NULL,
    price DECIMAL(10, 2) NOT NULL -- list price in USD
)""",
    """CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id), -- who ordered
    ordered_at DATE NOT NULL,
    total DECIMAL(10, 2) NOT NULL,
    paid BOOLEAN NOT NULL
)""",
    """CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL
)""",
    "CREATE TABLE numbers (n INTEGER NOT NULL)",
    "CREATE VIEW big_orders AS SELECT id, customer_id, total FROM orders WHERE total > 100",
]
_COMMENTS = {
    ("customers", None): "People who buy things",
    ("customers", "id"): "customer identifier",
    ("customers", "name"): "full name",
    ("customers", "city"): "home city",
    ("products", "price"): "list price in USD",
    ("orders", "customer_id"): "who ordered",
}
_ROWS: dict[str, list[tuple[Any, ...]]] = {
    "customers": CUSTOMERS,
    "products": PRODUCTS,
    "orders": ORDERS,
    "order_items": ORDER_ITEMS,
    "numbers": NUMBERS,
}


def _strip_comments(ddl: str) -> str:
    return "\n".join(line.split(" --")[0] for line in ddl.splitlines())


def _mysql_ddl(ddl: str) -> str:
    """Inline ``-- comments`` → ``COMMENT '...'``; foreign keys as table constraints (InnoDB ignores inline ones)."""
    lines: list[str] = []
    fks: list[str] = []
    for line in ddl.splitlines():
        body, _, comment = line.partition(" --")
        if " REFERENCES " in body:
            column = body.split()[0]
            target = body.split(" REFERENCES ")[1].split(")")[0] + ")"
            fks.append(f"    FOREIGN KEY ({column}) REFERENCES {target}")
            body = body.split(" REFERENCES ")[0] + ("," if body.rstrip().endswith(",") else "")
        if comment:
            trailing = body.rstrip().endswith(",")
            body = body.rstrip().rstrip(",") + f" COMMENT '{comment.strip()}'" + ("," if trailing else "")
        lines.append(body)
    if fks:
        lines[-2] = lines[-2].rstrip() + ","
        lines[-1:-1] = [",\n".join(fks)]
    text = "\n".join(lines)
    if text.startswith("CREATE TABLE customers"):
        text += " COMMENT = 'People who buy things'"
    return text


def _comment_statements() -> list[str]:
    statements: list[str] = []
    for (table, column), text in _COMMENTS.items():
        target = f"TABLE {table}" if column is None else f"COLUMN {table}.{column}"
        statements.append(f"COMMENT ON {target} IS '{text}'")
    return statements


@dataclass
class Source:
    """A data source of one kind with the shop loaded; ``connector`` is opened on it."""

    kind: DatasourceKind
    record: DatasourceRecord
    password: str | None
    connector: Connector
    paths: list[Path] = field(default_factory=list)
    cleanup: list[Any] = field(default_factory=list)

    def placeholder(self, name: str) -> str:
        """How this kind's driver-native SQL names parameter ``name``."""
        return {"postgres": f"%({name})s", "mysql": f"%({name})s", "sqlite": f":{name}"}.get(self.kind, f"${name}")

    def reopen(self, password: str | None) -> Connector:
        """A new connector on the same data source, with ``password``."""
        return open_connector(self.record, password)


def record(kind: DatasourceKind, config: dict[str, Any], name: str | None = None) -> DatasourceRecord:
    now = dt.datetime.now(dt.UTC)
    return DatasourceRecord(
        id=uuid.uuid4().hex, name=name or f"shop-{kind}", kind=kind, config=config, created_at=now, updated_at=now
    )


def build_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    try:
        for ddl in _DDL:
            conn.execute(ddl)
        for table, rows in _ROWS.items():
            marks = ", ".join("?" for _ in rows[0])
            conn.executemany(
                f"INSERT INTO {table} VALUES ({marks})", [tuple(_sqlite_value(v) for v in r) for r in rows]
            )
        conn.commit()
    finally:
        conn.close()
    return path


def _sqlite_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def build_duckdb(path: Path) -> Path:
    conn = duckdb.connect(str(path))
    try:
        for ddl in _DDL:
            conn.execute(_strip_comments(ddl))
        for statement in _comment_statements():
            conn.execute(statement)
        for table, rows in _ROWS.items():
            marks = ", ".join("?" for _ in rows[0])
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    finally:
        conn.close()
    return path


def build_files(directory: Path) -> list[dict[str, Any]]:
    """customers.csv, products.xlsx (sheets ``products`` and ``suppliers``), orders.parquet, order_items.jsonl,
    numbers.tsv."""
    from openpyxl import Workbook

    directory.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(":memory:")
    try:
        for ddl in _DDL[:-1]:
            conn.execute(_strip_comments(ddl))
        for table, rows in _ROWS.items():
            marks = ", ".join("?" for _ in rows[0])
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        conn.execute(f"COPY customers TO '{directory / 'customers.csv'}' (HEADER)")
        conn.execute(f"COPY orders TO '{directory / 'orders.parquet'}' (FORMAT parquet)")
        conn.execute(f"COPY order_items TO '{directory / 'order_items.jsonl'}' (FORMAT json)")
        conn.execute(f"COPY numbers TO '{directory / 'numbers.tsv'}' (HEADER, DELIMITER '\t')")
    finally:
        conn.close()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "products"
    sheet.append(["id", "name", "price"])
    for row in PRODUCTS:
        sheet.append(list(row))
    suppliers = book.create_sheet("suppliers")
    suppliers.append(["Supplier", "Since"])
    suppliers.append(["Acme", dt.datetime(2020, 1, 1)])
    book.save(directory / "products.xlsx")
    return [
        {"path": str(directory / "customers.csv")},
        {"path": str(directory / "orders.parquet")},
        {"path": str(directory / "order_items.jsonl")},
        {"path": str(directory / "numbers.tsv")},
        {"path": str(directory / "products.xlsx"), "sheet": "products"},
        {"path": str(directory / "products.xlsx"), "table": "suppliers", "sheet": "suppliers"},
    ]


async def build_postgres(pg_url: str) -> tuple[dict[str, Any], str, str]:
    """A database owned by a new role with a password; the shop created *by that role* (it owns every table)."""
    suffix = uuid.uuid4().hex[:10]
    database, role = f"shop_{suffix}", f"shop_owner_{suffix}"
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        await conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PG_PASSWORD}'")
        await conn.execute(f"CREATE DATABASE {database} OWNER {role}")
    server = conninfo_to_dict(pg_url)
    config = {"host": server.get("host"), "port": int(server.get("port") or 5432), "database": database, "user": role}
    async with await psycopg.AsyncConnection.connect(
        host=config["host"], port=config["port"], dbname=database, user=role, password=PG_PASSWORD, autocommit=True
    ) as conn:
        for ddl in _DDL:
            await conn.execute(_strip_comments(ddl))
        for statement in _comment_statements():
            await conn.execute(statement)
        for table, rows in _ROWS.items():
            marks = ", ".join("%s" for _ in rows[0])
            async with conn.cursor() as cursor:
                await cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        await conn.execute("CREATE SEQUENCE order_numbers")
        await conn.execute(
            "CREATE FUNCTION forget_orders() RETURNS bigint LANGUAGE sql VOLATILE "
            "AS 'WITH d AS (DELETE FROM orders RETURNING 1) SELECT count(*) FROM d'"
        )
    return config, database, role


async def drop_postgres(pg_url: str, database: str, role: str) -> None:
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await conn.execute(f"DROP ROLE IF EXISTS {role}")


def build_mysql(server: MariaDB) -> None:
    statements = [f"DROP TABLE IF EXISTS {t}" for t in ("order_items", "orders", "numbers", "products", "customers")]
    statements += ["DROP VIEW IF EXISTS big_orders", "DROP FUNCTION IF EXISTS forget_orders"]
    statements += [_mysql_ddl(ddl) for ddl in _DDL]
    for table, rows in _ROWS.items():
        values = ", ".join("(" + ", ".join(_mysql_literal(v) for v in row) + ")" for row in rows)
        statements.append(f"INSERT INTO {table} VALUES {values}")
    statements.append(
        "CREATE FUNCTION forget_orders() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM orders; RETURN 1; END"
    )
    server.admin(statements, database=server.database)


def _mysql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


async def fingerprint(source: Source) -> dict[str, Any]:
    """Every table's rows (sorted) and the list of tables, read back through a fresh connector; for files also
    the files' hashes: equal fingerprints before and after a statement mean it changed nothing."""
    connector = source.connector if source.kind == "file" else source.reopen(source.password)
    try:
        result: dict[str, Any] = {}
        for table in TABLES:
            rows = (await connector.execute(f"SELECT * FROM {table}", None, QueryLimits(max_rows=1000))).rows
            result[table] = sorted(repr(row) for row in rows)
        result["_tables"] = sorted(t.name for t in await connector.introspect(samples=0))
    finally:
        if connector is not source.connector:
            await connector.close()
    for spec in source.record.config.get("files") or []:
        result[spec["path"]] = hashlib.sha256(Path(spec["path"]).read_bytes()).hexdigest()
    if source.kind in {"sqlite", "duckdb"}:
        path = Path(source.record.config["path"])
        result["_file"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


@pytest.fixture(scope="session", params=KINDS, name="source")
async def source_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Source]:
    """The shop in one kind of data source (a session's worth; parametrised over ``KINDS`` or indirectly)."""
    kind = request.param
    base = tmp_path_factory.mktemp(f"shop-{kind}")
    password: str | None = None
    cleanup: list[Any] = []
    if kind == "postgres":
        pg_url: str = request.getfixturevalue("pg_url")
        config, database, role = await build_postgres(pg_url)
        password = PG_PASSWORD
        cleanup.append(lambda: drop_postgres(pg_url, database, role))
    elif kind == "mysql":
        server: MariaDB = request.getfixturevalue("mariadb")
        await asyncio.to_thread(build_mysql, server)
        config, password = server.config(), server.password
    elif kind == "sqlite":
        config = {"path": str(build_sqlite(base / "shop.sqlite"))}
    elif kind == "duckdb":
        config = {"path": str(build_duckdb(base / "shop.duckdb"))}
    else:
        config = {"files": build_files(base / "files")}
    rec = record(kind, config)
    src = Source(kind=kind, record=rec, password=password, connector=open_connector(rec, password))
    try:
        yield src
    finally:
        await src.connector.close()
        for step in cleanup:
            await step()
