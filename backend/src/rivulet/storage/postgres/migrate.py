"""Numbered, append-only SQL migrations tracked in ``schema_migrations``.

Files are ``migrations/NNNN_name.sql``; each runs in its own transaction under an advisory lock, so
several replicas starting at once apply each migration exactly once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import psycopg

from rivulet.lib.exceptions import ConfigError, StorageError
from rivulet.lib.log import get_logger

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

__all__ = ("MIGRATIONS_DIR", "Migration", "apply_migrations", "load_migrations")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x52_49_56_55  # "RIVU"
_log = get_logger(__name__)


class Migration(msgspec.Struct, frozen=True):
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read and order migration files; numbering must be gap-free from 1."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise StorageError(f"bad migration file name {path.name!r}; expected NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text()))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise StorageError(f"migration numbering has a gap: expected {expected:04d}, found {migration.version:04d}")
    return found


async def _require_pgvector(conn: psycopg.AsyncConnection) -> None:
    cur = await conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    if await cur.fetchone() is None:
        raise ConfigError(
            "the PostgreSQL server has no pgvector extension available; install pgvector "
            "(https://github.com/pgvector/pgvector) or unset RIVULET_DATABASE_URL to use the embedded database"
        )


async def apply_migrations(pool: AsyncConnectionPool, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply every migration not yet recorded. Returns the versions applied now (empty when up to date)."""
    migrations = load_migrations(directory)
    applied_now: list[int] = []
    async with pool.connection() as conn:
        await _require_pgvector(conn)
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur = await conn.execute("SELECT version FROM schema_migrations")
            done = {row[0] for row in await cur.fetchall()}
            for migration in migrations:
                if migration.version in done:
                    continue
                try:
                    await conn.execute(migration.sql.encode())
                except psycopg.Error as exc:
                    raise StorageError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (migration.version, migration.name)
                )
                applied_now.append(migration.version)
    if applied_now:
        _log.info("migrations applied", extra={"versions": applied_now})
    return applied_now
