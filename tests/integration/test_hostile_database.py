"""The guard's hostile corpus run *without the guard*, straight into each connector: the database must refuse
every statement, or the statement must have had no effect.

tests/fixtures/sql/hostile.jsonl (H-guard's corpus: ``{"dialect", "sql", "why"}``) plus a few statements of our
own go to the connector of their dialect (``duckdb`` ones to both the DuckDB file and the files source). After
each statement the shop's tables, the list of tables and the database files must be unchanged, no file the
statement names may have appeared, no result may carry a server file's or a password hash's content, and the
statement must have ended within its time limit.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from rivulet.data.connectors import mysql as mysql_connector
from rivulet.lib.exceptions import DatasourceError
from rivulet.sdk.data import QueryLimits
from tests.integration.connectors_support import Source, fingerprint, source_fixture  # noqa: F401 - the session fixture
from tests.integration.mariadb_support import mariadb_fixture  # noqa: F401 - the session fixture

pytestmark = pytest.mark.postgres

CORPUS = Path(__file__).parents[1] / "fixtures" / "sql" / "hostile.jsonl"
TIMEOUT_S = 1.0
EXTRA: list[dict[str, str]] = [
    {"dialect": "postgres", "sql": "SELECT forget_orders()", "why": "a function that deletes"},
    {"dialect": "postgres", "sql": "SELECT nextval('order_numbers')", "why": "sequence write"},
    {"dialect": "postgres", "sql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "why": "undo read-only"},
    {"dialect": "postgres", "sql": "SELECT set_config('transaction_read_only', 'off', true)", "why": "undo"},
    {"dialect": "postgres", "sql": "SELECT * FROM pg_read_file('/etc/hostname')", "why": "file read"},
    {"dialect": "mysql", "sql": "SELECT forget_orders()", "why": "a function that deletes"},
    {"dialect": "mysql", "sql": "SET SESSION TRANSACTION READ WRITE", "why": "undo read-only (next tx only)"},
    {"dialect": "mysql", "sql": "CREATE TEMPORARY TABLE t AS SELECT * FROM customers", "why": "temp table"},
    {"dialect": "mysql", "sql": "INSERT INTO numbers VALUES (99)", "why": "DML"},
    {"dialect": "sqlite", "sql": "DELETE FROM orders", "why": "DML"},
    {"dialect": "sqlite", "sql": "SELECT * FROM pragma_table_info('orders'); DELETE FROM orders", "why": "stacked"},
    {"dialect": "duckdb", "sql": "DELETE FROM orders", "why": "DML"},
    {"dialect": "duckdb", "sql": "CREATE TABLE evil AS SELECT 1", "why": "DDL"},
    {"dialect": "duckdb", "sql": "COMMIT", "why": "transaction control"},
    {"dialect": "duckdb", "sql": "SET lock_configuration = false", "why": "unlock"},
]
FORBIDDEN_OUTPUT = [
    re.compile(r"root:[^:]*:0:0:"),  # /etc/passwd
    re.compile(r"SCRAM-SHA-256\$"),  # PostgreSQL password hashes
    re.compile(r"\*[0-9A-F]{40}"),  # MySQL native password hashes
]
KIND_OF_DIALECT = {"postgres": ["postgres"], "mysql": ["mysql"], "sqlite": ["sqlite"], "duckdb": ["duckdb", "file"]}


def _corpus() -> list[dict[str, str]]:
    if not CORPUS.is_file():  # pragma: no cover - H-guard's corpus is part of the repository
        pytest.fail(f"{CORPUS} is missing")
    lines = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    return lines + EXTRA


def _cases() -> list[Any]:
    """(kind, raw, entry): every statement to its kinds; MySQL ones a second time with ``raw`` (the connector's
    first-keyword filter off, so only the server stands between the statement and the data)."""
    cases: list[Any] = []
    counters: dict[str, int] = {}
    for entry in _corpus():
        for kind in KIND_OF_DIALECT[entry["dialect"]]:
            for raw in (False, True) if kind == "mysql" else (False,):
                label = f"{kind}-raw" if raw else kind
                counters[label] = counters.get(label, 0) + 1
                cases.append(pytest.param(kind, raw, entry, id=f"{label}-{counters[label]:03d}"))
    return cases


def _named_paths(sql: str) -> list[Path]:
    """Files a statement names (quoted absolute paths, and relative database names like 'evil.db')."""
    paths = [Path(p) for p in re.findall(r"'(/[^'*]+)'", sql)]
    paths += [Path.cwd() / p for p in re.findall(r"'([\w.-]+\.(?:db|csv|duckdb|parquet))'", sql)]
    return [p for p in paths if not p.is_relative_to("/etc") and not p.is_relative_to("/dev")]


def test_the_corpus_covers_every_dialect() -> None:
    corpus = _corpus()
    assert len(corpus) >= 60
    assert {e["dialect"] for e in corpus} == set(KIND_OF_DIALECT)


@pytest.mark.parametrize(("source", "raw", "entry"), _cases(), indirect=["source"])
async def test_hostile_statement_is_refused_or_harmless(
    source: Source,
    raw: bool,
    entry: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sql = entry["sql"]
    if raw:
        monkeypatch.setattr(mysql_connector, "_first_word", lambda _sql: "select")
    named = _named_paths(sql)
    existed = {p for p in named if p.exists()}
    before = await fingerprint(source)
    started = time.monotonic()
    try:
        table = await source.connector.execute(sql, None, QueryLimits(timeout_s=TIMEOUT_S, max_rows=100))
    except DatasourceError as refused:
        outcome = f"refused ({refused.extra.get('reason')}): {refused.detail[:160]}"
        text = refused.detail
    else:
        outcome = f"ran, {len(table.rows)} rows"
        text = msgspec.json.encode(table).decode()
    elapsed = time.monotonic() - started
    print(f"{source.kind}: {entry['why']}: {outcome}")
    assert elapsed < TIMEOUT_S + 4, (sql, elapsed)
    for pattern in FORBIDDEN_OUTPUT:
        if raw and sql.upper().startswith("SHOW GRANTS"):
            continue  # the account's own hash: the reason the connector lets only queries through (docs)
        assert not pattern.search(text), (sql, text[:300])
    assert await fingerprint(source) == before, sql
    for path in named:
        assert path in existed or not path.exists(), (sql, path)
