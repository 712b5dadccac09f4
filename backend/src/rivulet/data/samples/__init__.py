"""The sample database ``shop`` (a small online shop over 2023-2024) and a spreadsheet for ChatExcel.

``shop.sql`` is portable SQL (SQLite and DuckDB run it unchanged): regions, employees, customers, categories,
products, orders, order_items and payments with primary and foreign keys. ``build_sample`` writes it into a
database file (atomically, once: an up-to-date file is left alone); ``sample_spreadsheet`` writes an ``.xlsx``
with two sheets (``sales``: monthly revenue by region and category, computed from the same data; ``targets``:
quarterly revenue targets by region). ``shop_text2sql.jsonl`` holds gold questions over the database for
``rivulet eval text2sql``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
import uuid
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

__all__ = (
    "COLUMN_COMMENTS",
    "DATASET_FILE",
    "TABLE_COMMENTS",
    "build_sample",
    "dataset_path",
    "sample_spreadsheet",
    "shop_sql",
)

DATASET_FILE = "shop_text2sql.jsonl"

TABLE_COMMENTS: dict[str, str] = {
    "regions": "Sales regions the shop sells to.",
    "employees": "Staff of the sales team; each customer has one sales representative.",
    "customers": "Customers (people and companies) who place orders.",
    "categories": "Product categories.",
    "products": "Products in the catalogue with their current list price.",
    "orders": "Orders placed by customers.",
    "order_items": "Lines of an order: a product, a quantity and the price paid per unit.",
    "payments": "Payments received for orders (none for pending or cancelled orders).",
}
"""Table descriptions (SQLite has no comments: DuckDB files get them with ``COMMENT ON``)."""

COLUMN_COMMENTS: dict[str, dict[str, str]] = {
    "regions": {"name": "Region name, e.g. Europe", "code": "Short code, e.g. EU"},
    "employees": {
        "title": "Head of Sales, Sales Manager or Sales Representative",
        "region_id": "Region the employee covers (NULL for the head of sales)",
        "manager_id": "The employee's manager",
        "salary": "Yearly salary in USD",
    },
    "customers": {
        "segment": "consumer, small_business or enterprise",
        "signup_date": "Day the customer registered",
        "is_active": "FALSE when the account was closed",
        "sales_rep_id": "The customer's sales representative (an employee)",
    },
    "products": {
        "unit_price": "Current list price in USD",
        "unit_cost": "Purchase cost in USD",
        "stock_quantity": "Units in the warehouse",
        "discontinued": "TRUE when no longer sold",
    },
    "orders": {
        "employee_id": "Employee who handled the order",
        "status": "pending, paid, shipped, delivered, cancelled or returned",
        "shipped_date": "NULL until shipped",
    },
    "order_items": {
        "unit_price": "Price per unit at the time of the order, in USD",
        "discount": "Fraction off the line, 0.10 = 10 percent",
    },
    "payments": {
        "amount": "Amount paid in USD, shipping included",
        "method": "card, paypal, bank_transfer or gift_card",
    },
}
"""Column descriptions, by table."""

_INSERT = re.compile(r"^INSERT INTO (\w+) ", re.MULTILINE)


def shop_sql() -> str:
    """The script (DDL and data)."""
    return resources.files(__name__).joinpath("shop.sql").read_text(encoding="utf-8")


def dataset_path() -> Path:
    """The gold Text2SQL dataset shipped with the package."""
    return Path(str(resources.files(__name__).joinpath(DATASET_FILE)))


@cache
def _fingerprint() -> int:
    """A positive 31-bit number from the script's hash (SQLite's ``user_version`` of an up-to-date file)."""
    digest = hashlib.sha256(shop_sql().encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF or 1


@cache
def _expected_rows() -> dict[str, int]:
    """Rows per table in the script (one row a line, the generator's layout)."""
    counts: dict[str, int] = {}
    table = ""
    for line in shop_sql().splitlines():
        match = _INSERT.match(line)
        if match:
            table = match.group(1)
            counts.setdefault(table, 0)
        elif table and line.startswith("("):
            counts[table] += 1
        elif not line.strip():
            table = ""
    return counts


def build_sample(path: Path, kind: Literal["sqlite", "duckdb"] = "sqlite") -> Path:
    """Write the ``shop`` database to ``path`` unless an up-to-date copy is already there; return ``path``.

    The file is built next to its destination and moved into place, so a reader never sees half a database and
    two builders at once both end with a complete file. Blocking (a few hundred milliseconds): call it in a thread
    from async code.
    """
    path = Path(path)
    if kind not in ("sqlite", "duckdb"):
        raise ValueError(f"sample database kind must be 'sqlite' or 'duckdb', not {kind!r}")
    if path.is_file() and (_sqlite_is_current(path) if kind == "sqlite" else _duckdb_is_current(path)):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        if kind == "sqlite":
            _write_sqlite(tmp)
        else:
            _write_duckdb(tmp)
        tmp.replace(path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return path


def _sqlite_is_current(path: Path) -> bool:
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = con.execute("PRAGMA user_version").fetchone()
        return bool(row) and row[0] == _fingerprint()
    except sqlite3.Error:
        return False
    finally:
        con.close()


def _write_sqlite(tmp: Path) -> None:
    con = sqlite3.connect(tmp)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        con.executescript(shop_sql())
        con.execute(f"PRAGMA user_version = {_fingerprint()}")
        con.commit()
    finally:
        con.close()


def _duckdb_is_current(path: Path) -> bool:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return False
    try:
        for table, rows in _expected_rows().items():
            found = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            if not found or found[0] != rows:
                return False
        return True
    except duckdb.Error:
        return False
    finally:
        con.close()


def _write_duckdb(tmp: Path) -> None:
    import duckdb

    con = duckdb.connect(str(tmp))
    try:
        con.execute(shop_sql())
        for table, text in TABLE_COMMENTS.items():
            con.execute(f"COMMENT ON TABLE {table} IS {_literal(text)}")
        for table, columns in COLUMN_COMMENTS.items():
            for column, text in columns.items():
                con.execute(f"COMMENT ON COLUMN {table}.{column} IS {_literal(text)}")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sample_spreadsheet(path: Path) -> Path:
    """Write ``shop.xlsx``-like workbook to ``path`` (sheets ``sales`` and ``targets``) unless it exists.

    ``sales``: one row per month, region and category with orders, units and revenue (delivered, shipped, paid
    and returned orders of the sample database); ``targets``: a revenue target per region and quarter.
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size > 0:
        return path
    from openpyxl import Workbook

    sales, targets = _spreadsheet_rows()
    book = Workbook(write_only=True)
    sheet: Any = book.create_sheet("sales")
    sheet.append(["month", "region", "category", "orders", "units", "revenue"])
    for row in sales:
        sheet.append(list(row))
    sheet = book.create_sheet("targets")
    sheet.append(["region", "year", "quarter", "target_revenue"])
    for row in targets:
        sheet.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        book.save(str(tmp))
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def _spreadsheet_rows() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    con = sqlite3.connect(":memory:")
    try:
        con.executescript(shop_sql())
        sales_rows = con.execute(
            """
            SELECT substr(o.order_date, 1, 7) AS month, r.name, c.name,
                   count(DISTINCT o.order_id), sum(i.quantity),
                   round(sum(i.quantity * i.unit_price * (1 - i.discount)), 2)
            FROM orders o
            JOIN customers cu ON cu.customer_id = o.customer_id
            JOIN regions r ON r.region_id = cu.region_id
            JOIN order_items i ON i.order_id = o.order_id
            JOIN products p ON p.product_id = i.product_id
            JOIN categories c ON c.category_id = p.category_id
            WHERE o.status IN ('paid', 'shipped', 'delivered', 'returned')
            GROUP BY 1, 2, 3
            ORDER BY 1, 2, 3
            """
        ).fetchall()
        sales: list[tuple[Any, ...]] = [
            (date(int(m[:4]), int(m[5:7]), 1), region, category, int(n), int(units), float(revenue))
            for m, region, category, n, units, revenue in sales_rows
        ]
        quarterly: dict[tuple[str, int, int], float] = {}
        for month, region, _category, _n, _units, revenue in sales:
            key = (region, month.year, (month.month - 1) // 3 + 1)
            quarterly[key] = quarterly.get(key, 0.0) + revenue
        targets: list[tuple[Any, ...]] = []
        regions = sorted({region for _month, region, *_rest in sales})
        for region in regions:
            for year in (2023, 2024):
                for quarter in (1, 2, 3, 4):
                    # a little above what was sold, rounded to hundreds, at least 1,000 (deterministic)
                    factor = 1.05 + ((year * 7 + quarter * 3 + len(region)) % 5) * 0.03
                    revenue = quarterly.get((region, year, quarter), 0.0)
                    targets.append((region, year, quarter, float(max(1000, round(revenue * factor / 100) * 100))))
        return sales, targets
    finally:
        con.close()
