from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from rivulet.lib.exceptions import StorageError
from rivulet.storage.postgres.migrate import MIGRATIONS_DIR, apply_migrations, load_migrations
from rivulet.storage.postgres.pool import check_database

if TYPE_CHECKING:
    from pathlib import Path

    from psycopg_pool import AsyncConnectionPool


async def test_migrations_apply_twice_without_error(pool: AsyncConnectionPool) -> None:
    # the template database is already migrated: a second and third run change nothing
    assert await apply_migrations(pool) == []
    assert await apply_migrations(pool) == []
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT version FROM schema_migrations ORDER BY version")
        versions = [row[0] for row in await cur.fetchall()]
    assert versions == [m.version for m in load_migrations()]


async def test_fresh_database_gets_every_migration(pg_url: str) -> None:
    import uuid

    import psycopg

    from tests.conftest import database_url

    name = f"fresh_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name}")
    from rivulet.storage.postgres.pool import open_pool

    pool = await open_pool(database_url(pg_url, name))
    try:
        applied = await apply_migrations(pool)
        assert applied == [m.version for m in load_migrations()]
        info = await check_database(pool)
        assert info.pgvector is not None
        assert info.server_version.startswith("18")
    finally:
        await pool.close()
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
            await conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_migration_files_are_numbered_without_gaps() -> None:
    names = sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))
    assert names[0].startswith("0001_")
    assert len(load_migrations()) == len(names)


def test_gap_in_numbering_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(StorageError, match="gap"):
        load_migrations(tmp_path)


async def test_failed_migration_is_rolled_back_and_reported(pool: AsyncConnectionPool, tmp_path: Path) -> None:
    for m in load_migrations():
        (tmp_path / f"{m.version:04d}_{m.name}.sql").write_text(m.sql)
    bad = len(load_migrations()) + 1
    (tmp_path / f"{bad:04d}_broken.sql").write_text("CREATE TABLE ok_table (x int); SELEC nonsense;")
    with pytest.raises(StorageError, match="broken"):
        await apply_migrations(pool, tmp_path)
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT to_regclass('ok_table') IS NULL")
        row = await cur.fetchone()
    assert row == (True,)
