"""``rivulet ds add|list|test|schema|query|delete`` against a real database: a SQLite file, CSV files and the embedded
PostgreSQL with a password read from an environment variable or standard input (never the command line)."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from typing import TYPE_CHECKING

import pytest

from rivulet.cli.main import main
from tests.integration.test_datasources_api import PLANTED, postgres_source

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("RIVULET_DATABASE_URL", db_url)
    monkeypatch.setenv("RIVULET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RIVULET_LOG_LEVEL", "warning")


async def ds(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["ds", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def build(path: Path) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, species TEXT)")
        conn.executemany(
            "INSERT INTO pets VALUES (?, ?, ?)",
            [(1, "Rex", "dog"), (2, "Tom", "cat"), (3, "Fido", "dog"), (4, "Nemo", "fish")],
        )
        conn.commit()
    finally:
        conn.close()
    return path


@pytest.mark.usefixtures("cli_env")
async def test_add_list_schema_query_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pets = build(tmp_path / "pets.sqlite")
    code, out, err = await ds(capsys, "add", "pets", "--kind", "sqlite", "--path", str(pets), "--description", "zoo")
    assert code == 0, err
    assert out == f"created: data source 'pets' (sqlite: {pets})\n"
    code, _, err = await ds(capsys, "add", "pets", "--kind", "sqlite", "--path", str(pets))
    assert (code, err.startswith("rivulet: error: ")) == (2, True)

    csv = tmp_path / "visits.csv"
    csv.write_text("pet,day\nRex,mon\nRex,tue\nTom,mon\n")
    code, out, err = await ds(capsys, "add", "visits", "--kind", "file", "--file", str(csv))
    assert code == 0, err
    assert out.startswith("created: data source 'visits' (file: ")

    code, out, err = await ds(capsys, "list")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "WHERE", "SCHEMA", "REFRESHED", "DESCRIPTION"]
    assert any(line.startswith("pets ") and line.endswith("zoo") for line in lines)
    code, out, _ = await ds(capsys, "list", "--json")
    assert {item["name"] for item in json.loads(out)} >= {"pets", "visits"}

    code, out, err = await ds(capsys, "test", "pets")
    assert code == 0, err
    assert out.startswith("ok: pets (")
    assert "; 1 table; " in out

    code, out, err = await ds(capsys, "schema", "pets", "--refresh")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert rows[0][:4] == ["TABLE", "COLUMN", "TYPE", "KEY"]
    assert [row[1] for row in rows[1:]] == ["id", "name", "species"]
    assert rows[1][3] == "PK"
    code, out, _ = await ds(capsys, "schema", "pets", "--json")
    assert [t["name"] for t in json.loads(out)["tables"]] == ["pets"]

    sql = "SELECT species, COUNT(*) AS n FROM pets GROUP BY species ORDER BY n DESC, species"
    code, out, err = await ds(capsys, "query", "pets", sql)
    assert code == 0, err
    assert [line.split() for line in out.splitlines()] == [["SPECIES", "N"], ["dog", "2"], ["cat", "1"], ["fish", "1"]]
    code, out, err = await ds(capsys, "query", "pets", "SELECT name FROM pets ORDER BY id", "--max-rows", "2")
    assert code == 0, err
    assert out.splitlines()[1:] == ["Rex", "Tom"]
    assert "truncated" in err
    visits = "SELECT pet, COUNT(*) AS n FROM visits GROUP BY pet ORDER BY n DESC"
    code, out, _ = await ds(capsys, "query", "visits", visits, "--json")
    assert json.loads(out)["rows"][0] == ["Rex", 2]

    code, out, err = await ds(capsys, "query", "pets", "DELETE FROM pets")
    assert (code, out) == (2, "")
    assert err.startswith("rivulet: error: ")
    code, _, err = await ds(capsys, "query", "nowhere", "SELECT 1")
    assert code == 2
    assert "nowhere" in err

    code, out, err = await ds(capsys, "delete", "pets")
    assert (code, out) == (0, "deleted: data source 'pets'\n")
    assert pets.exists()
    code, _, err = await ds(capsys, "test", "pets")
    assert code == 2


@pytest.mark.usefixtures("cli_env")
async def test_passwords_come_from_the_environment_or_stdin(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with postgres_source(pg_url) as pg:
        server = ["--kind", "postgres", "--host", pg["host"], "--port", str(pg["port"])]
        server += ["--database", pg["database"], "--user", pg["user"]]
        code, _, err = await ds(capsys, "add", "pg", *server, "--password-env", "NO_SUCH_VARIABLE")
        assert code == 2
        assert "NO_SUCH_VARIABLE" in err
        monkeypatch.setenv("SHOP_PASSWORD", PLANTED)
        code, out, err = await ds(capsys, "add", "pg", *server, "--password-env", "SHOP_PASSWORD")
        assert code == 0, err
        assert out.startswith(f"created: data source 'pg' (postgres: {pg['user']}@")
        assert "password in secret " in out
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{PLANTED}\n"))
        code, out, err = await ds(capsys, "add", "pg2", *server, "--password-stdin", "--json")
        assert code == 0, err
        assert json.loads(out)["secret_name"]

        code, out, err = await ds(capsys, "test", "pg2")
        assert code == 0, err
        code, out, err = await ds(capsys, "query", "pg", "SELECT name FROM products ORDER BY price DESC")
        assert code == 0, err
        assert out.splitlines()[1] == "Desk"
        for command in (("list",), ("list", "--json"), ("schema", "pg", "--json")):
            code, out, err = await ds(capsys, *command)
            assert PLANTED not in out + err
        code, _, err = await ds(capsys, "add", "nope", "--kind", "sqlite", "--path", "x.db", "--password-env", "X")
        assert code == 2
        assert "only for postgres or mysql" in err
        for name in ("pg", "pg2"):
            assert (await ds(capsys, "delete", name))[0] == 0
