"""The sample database ``shop``: builds on SQLite and DuckDB, idempotently, and every gold question executes."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import duckdb
import pytest
from openpyxl import load_workbook

from rivulet.data.samples import TABLE_COMMENTS, build_sample, dataset_path, sample_spreadsheet

if TYPE_CHECKING:
    from pathlib import Path

TABLES = {"regions", "employees", "customers", "categories", "products", "orders", "order_items", "payments"}


def test_sqlite_sample_has_tables_keys_and_data(tmp_path: Path) -> None:
    path = build_sample(tmp_path / "shop.sqlite")
    con = sqlite3.connect(path)
    try:
        names = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert names == TABLES
        assert con.execute("SELECT count(*) FROM orders").fetchone()[0] >= 300
        first, last = con.execute("SELECT min(order_date), max(order_date) FROM orders").fetchone()
        assert first.startswith("2023")
        assert last.startswith("2024")
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        fks = con.execute("PRAGMA foreign_key_list(order_items)").fetchall()
        assert {fk[2] for fk in fks} == {"orders", "products"}
        amounts = [row[0] for row in con.execute("SELECT amount FROM payments")]
        assert all(round(a, 2) == a for a in amounts)  # money in cents
        assert any(round(a) != a for a in amounts)
        assert len({row[0] for row in con.execute("SELECT status FROM orders")}) == 6
    finally:
        con.close()


def test_build_is_idempotent_and_repairs_a_stale_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "shop.sqlite"
    build_sample(path)
    stamp = path.stat().st_mtime_ns
    assert build_sample(path) == path
    assert path.stat().st_mtime_ns == stamp  # an up-to-date file is left alone
    path.write_bytes(b"not a database")
    build_sample(path)
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM regions").fetchone()[0] == 5
    con.close()
    assert [p.name for p in path.parent.iterdir()] == ["shop.sqlite"]  # no temporary file left behind


def test_duckdb_sample_has_the_same_data_and_comments(tmp_path: Path) -> None:
    path = build_sample(tmp_path / "shop.duckdb", "duckdb")
    stamp = path.stat().st_mtime_ns
    assert build_sample(path, "duckdb").stat().st_mtime_ns == stamp
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert names == TABLES
        comments = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
        assert comments["orders"] == TABLE_COMMENTS["orders"]
        row = con.execute("SELECT count(*), sum(amount) FROM payments").fetchone()
        assert row is not None
    finally:
        con.close()
    lite = sqlite3.connect(build_sample(tmp_path / "shop.sqlite"))
    count, total = lite.execute("SELECT count(*), sum(amount) FROM payments").fetchone()
    lite.close()
    assert row[0] == count
    assert float(row[1]) == pytest.approx(total)


def test_spreadsheet_has_sales_and_targets(tmp_path: Path) -> None:
    path = sample_spreadsheet(tmp_path / "shop.xlsx")
    book = load_workbook(path, read_only=True)
    try:
        assert book.sheetnames == ["sales", "targets"]
        sales = list(book["sales"].iter_rows(values_only=True))
        assert sales[0] == ("month", "region", "category", "orders", "units", "revenue")
        assert len(sales) > 100
        targets = list(book["targets"].iter_rows(values_only=True))
        assert targets[0] == ("region", "year", "quarter", "target_revenue")
        assert len(targets) == 1 + 5 * 8
    finally:
        book.close()


def test_every_gold_question_executes_and_returns_rows(tmp_path: Path) -> None:
    con = sqlite3.connect(build_sample(tmp_path / "shop.sqlite"))
    lines = dataset_path().read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 45
    questions: set[str] = set()
    try:
        for number, line in enumerate(lines, 1):
            item = json.loads(line)
            assert set(item) == {"question", "sql", "db"}, number
            assert item["db"] == "shop"
            assert item["question"] not in questions, number
            questions.add(item["question"])
            rows = con.execute(item["sql"]).fetchall()
            assert rows, f"line {number}: no rows"
            assert rows != [(None,)], f"line {number}: NULL only"
    finally:
        con.close()
